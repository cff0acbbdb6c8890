"""Build the gallery's sample seg maps (assets/samples/*.png + index.yaml) from engine heads.

    python scripts/build_sample_maps.py [--out assets/samples] [--device auto]

Each look names the engine attributes it wants (hairstyle, beard, glasses, hat, ...). The first
seed from ``--first-seed`` on (benchmark seeds skipped) whose sampled attributes match is built
by the procedural head engine, and its class map at the canonical input camera, the view the
app's canvas paints in, is saved with ``models.io.segmap.save_segmap``. A map holds classes only,
so looks constrain shape (hairstyle, beard, glasses, hat), not colours; the suggested prompt
names that shape and adds colours an artist might try. Seeds go into index.yaml, so the maps
can be rebuilt exactly.
"""
from __future__ import annotations

import argparse
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

log = logging.getLogger("build_sample_maps")

REPO = Path(__file__).resolve().parent.parent
MAX_SEEDS = 20_000  # attributes are cheap to sample; every look is found well before this
# What every look leaves alone unless it asks otherwise: plain maps, no accessories, closed mouth.
PLAIN = {"facial_hair": "none", "glasses": "none", "hat": "none", "mouth_open": False}


@dataclass(frozen=True)
class Look:
    """One gallery entry: what the head must have, and how the gallery presents it."""

    file: str
    title: str
    prompt: str
    want: dict[str, object]                  # HeadAttributes field -> required value
    features: tuple[str, ...] = ()           # classes the map must show (accessories), by name
    bald: bool = False                       # no hair class expected
    plain: dict[str, object] = field(default_factory=lambda: dict(PLAIN))

    def matches(self, attrs) -> bool:
        required = {**self.plain, **self.want}
        return all(getattr(attrs, name) == value for name, value in required.items())


LOOKS: tuple[Look, ...] = (
    Look("bald.png", "Bald", "bald man, deep brown skin, dark brown eyes, navy crew-neck t-shirt",
         {"hair_style": "bald", "presentation": "man"}, bald=True),
    Look("buzz_full_beard.png", "Buzz cut with full beard",
         "buzz-cut black hair and a thick black full beard, brown eyes, olive shirt",
         {"hair_style": "buzz", "facial_hair": "full_beard", "presentation": "man"},
         features=("facial_hair",)),
    Look("short_glasses.png", "Short hair with glasses",
         "short brown hair, rectangular glasses, blue eyes, white collared shirt",
         {"hair_style": "short", "glasses": "rectangular"}, features=("eyeglasses",)),
    Look("side_part.png", "Side part", "side-parted blonde hair, hazel eyes, light skin, grey sweater",
         {"hair_style": "side_part"}),
    Look("bob.png", "Bob", "platinum blonde bob, grey eyes, red lips, black turtleneck",
         {"hair_style": "bob", "presentation": "woman"}),
    Look("long_straight.png", "Long straight hair", "long straight black hair, dark brown eyes, white t-shirt",
         {"hair_style": "long_straight"}),
    Look("long_wavy.png", "Long wavy hair", "long wavy auburn hair, green eyes, beige sweater",
         {"hair_style": "long_wavy", "presentation": "woman"}),
    Look("afro.png", "Afro", "big curly afro of dark brown hair, brown eyes, dark skin, mustard yellow top",
         {"hair_style": "afro"}),
    Look("ponytail.png", "Ponytail", "pink ponytail, hazel eyes, teal v-neck top",
         {"hair_style": "ponytail"}),
    Look("bun.png", "Bun", "grey hair in a bun, blue eyes, older woman, burgundy sweater",
         {"hair_style": "bun", "presentation": "woman", "age": "older"}),
    Look("cap.png", "Side part under a cap (hat)", "red baseball cap, side-swept brown hair, brown eyes, grey t-shirt",
         {"hat": "cap", "hair_style": "side_part"}, features=("hat",)),
    Look("beanie.png", "Long hair with a beanie (hat)", "green knit beanie, long straight red hair, blue eyes",
         {"hat": "beanie", "hair_style": "long_straight"}, features=("hat",)),
)


def matching_seeds(look: Look, first: int, taken: set[int]) -> Iterator[int]:
    """Seeds whose attributes match the look, in order (benchmark heads are never used)."""
    from models.synthetic import is_benchmark_seed, sample_attributes

    return (s for s in range(first, first + MAX_SEEDS)
            if s not in taken and not is_benchmark_seed(s) and look.matches(sample_attributes(s)))


def canonical_class_map(seed: int, device: str):
    """The engine head's class map at the canonical input camera. [S, S] uint8"""
    import torch

    from models.cameras import canonical_view
    from models.render import render
    from models.synthetic import make_head

    head, _ = make_head(seed, device)
    with torch.inference_mode():
        return render(head, canonical_view().camera(), classes=True).class_map.to(torch.uint8).cpu().numpy()


def map_problem(look: Look, labels) -> str | None:
    """Why a rendered map does not show the look (an accessory hidden, stray hair), or None."""
    from models.palette import palette

    pal = palette()
    share = lambda name: float((labels == pal.id_of(name)).mean())  # noqa: E731
    if share("background") < 0.05 or share("skin") < 0.02:
        return "no clear head"
    if look.bald and share("hair") > 0.0:
        return "hair on a bald look"
    if not look.bald and share("hair") < 0.005:
        return "hair hidden"
    for name in look.features:
        if share(name) < 0.002:
            return f"{name} hidden"
    return None


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=REPO / "assets" / "samples")
    p.add_argument("--first-seed", type=int, default=1)
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    import yaml

    from models.io.atomic import write_bytes_atomic
    from models.device import resolve_device
    from models.io.segmap import save_segmap

    device = str(resolve_device(args.device))
    args.out.mkdir(parents=True, exist_ok=True)
    taken: set[int] = set()
    entries = []
    for look in LOOKS:
        for seed in matching_seeds(look, args.first_seed, taken):
            labels = canonical_class_map(seed, device)
            problem = map_problem(look, labels)
            if problem is None:
                break
            log.info("%s: seed %d skipped (%s)", look.file, seed, problem)
        else:
            raise SystemExit(f"no seed shows the look {look.title!r}; widen MAX_SEEDS or relax the look")
        taken.add(seed)
        path = save_segmap(args.out / look.file, labels)
        log.info("%s: seed %d, %d bytes", look.file, seed, path.stat().st_size)
        entry = {"file": look.file, "title": look.title, "prompt": look.prompt, "seed": seed}
        if look.features:
            entry["features"] = list(look.features)
        entries.append(entry)

    header = ("# Gallery of sample seg maps (perchead gui start points), made by scripts/build_sample_maps.py.\n"
              "# Each map is an engine head's class map at the canonical input camera (palette colours,\n"
              "# assets/classes.yaml). features: classes the map is chosen to show; seed: the engine head.\n")
    text = header + yaml.safe_dump({"samples": entries}, sort_keys=False, allow_unicode=True, width=120)
    write_bytes_atomic(args.out / "index.yaml", text.encode("utf-8"))
    log.info("wrote %d maps and index.yaml to %s", len(entries), args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
