#!/usr/bin/env bash
# Install Debian's virtual X server (xvfb + xauth) when it is missing; sourced by run.sh and test.sh.
# The desktop window runs on it on machines without a screen (CI, servers).
if ! command -v Xvfb >/dev/null 2>&1 || ! command -v xvfb-run >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1; then
    sudo_cmd=""
    [ "$(id -u)" = 0 ] || sudo_cmd="sudo"
    echo "perchead: installing xvfb (virtual display for the window)" >&2
    { $sudo_cmd apt-get install -y -q xvfb xauth >/dev/null 2>&1 \
      || { $sudo_cmd apt-get update -q >/dev/null 2>&1 && $sudo_cmd apt-get install -y -q xvfb xauth >/dev/null 2>&1; }; } \
      || echo "perchead: could not install xvfb; window tests will skip (install it with: apt-get install xvfb)" >&2
  else
    echo "perchead: no apt-get here; install an X virtual framebuffer (Xvfb) for the window tests" >&2
  fi
fi
