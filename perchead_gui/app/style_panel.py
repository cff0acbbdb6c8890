"""Style: a prompt (applied on Enter), recent prompts, example prompts, a reference image.

The text/image toggle says which of the two drives the head; switching back and forth keeps
both, so an artist can compare a prompt with a reference image.
"""
from __future__ import annotations

import dearpygui.dearpygui as dpg
import numpy as np

from perchead_gui.app.actions import StyleActions
from perchead_gui.app.compose import resize_nearest
from perchead_gui.app.document import Document
from perchead_gui.settings import UserSettings

PROMPT = "style/prompt"
HISTORY = "style/history"
MODE = "style/mode"
READING = "style/reading"
THUMB_TEXTURE = "style/thumb_texture"
THUMB_PX = 96
MODE_LABELS = {"text": "Prompt", "image": "Reference image"}
# One click away. The map sets the shapes, so examples name colours, in the words of the
# engine captions the style model was trained on (models/synthetic/attributes.py).
EXAMPLE_PROMPTS = (
    "long wavy red hair, green eyes, pale skin",
    "black hair, brown eyes, dark skin, navy t-shirt",
    "platinum blonde hair, blue eyes, red sweater",
    "grey hair, a grey beard, tan skin",
    "dyed pink hair, hazel eyes, black turtleneck",
)


def thumbnail(rgba_image: np.ndarray, size: int) -> np.ndarray:
    """Fit an RGBA image [H, W, 4] (0..1) into a square [size, size, 4] on a dark ground."""
    h, w = rgba_image.shape[:2]
    scale = size / max(h, w)
    th, tw = max(1, round(h * scale)), max(1, round(w * scale))
    small = resize_nearest(rgba_image, th, tw)
    out = np.zeros((size, size, 4), np.float32)
    out[..., :3] = 0.1
    out[..., 3] = 1.0
    top, left = (size - th) // 2, (size - tw) // 2
    a = small[..., 3:4]
    out[top:top + th, left:left + tw, :3] = small[..., :3] * a + 0.1 * (1 - a)
    return out


class StylePanel:
    def __init__(self, doc: Document, settings: UserSettings, actions: StyleActions) -> None:
        self.doc = doc
        self.settings = settings  # the prompt history
        self.actions = actions
        self.thumb = np.zeros((THUMB_PX, THUMB_PX, 4), np.float32)  # raw texture buffer, written in place
        self.thumb[..., 3] = 1.0
        self.reading = ""  # the last "reads as: ..." line shown

    def build(self, width: int) -> None:
        with dpg.texture_registry():
            dpg.add_raw_texture(THUMB_PX, THUMB_PX, self.thumb.ravel(), format=dpg.mvFormat_Float_rgba,
                                tag=THUMB_TEXTURE)
        with dpg.child_window(tag="style", width=width, height=-1):
            dpg.add_text("Style")
            dpg.add_radio_button([MODE_LABELS["text"], MODE_LABELS["image"]], tag=MODE, horizontal=True,
                                 callback=self._mode_changed)
            with dpg.group(horizontal=True):
                # auto_select_all: a click into the field selects the old prompt, so typing replaces it (Ctrl+A does too)
                dpg.add_input_text(tag=PROMPT, width=width - 90, on_enter=True, hint="describe the head, press Enter",
                                   auto_select_all=True,
                                   callback=lambda s, v: self.actions.apply_prompt(v))
                dpg.add_button(label="Apply", callback=lambda: self.actions.apply_prompt(dpg.get_value(PROMPT)))
            dpg.add_text("", tag=READING, wrap=width - 20, color=(170, 190, 210))  # what the style model read
            dpg.add_combo([], tag=HISTORY, label="recent", width=width - 90, callback=self._history_picked)
            with dpg.group(horizontal=False):
                for i, text in enumerate(EXAMPLE_PROMPTS):
                    dpg.add_button(label=text, tag=f"style/example/{i}", small=True,
                                   callback=lambda s, a, u: self.actions.apply_prompt(u), user_data=text)
            with dpg.group(horizontal=True):
                dpg.add_image(THUMB_TEXTURE, width=THUMB_PX, height=THUMB_PX)
                with dpg.group():
                    dpg.add_button(label="Load reference image...", callback=lambda: self.actions.ask_style_image())
                    dpg.add_text("", tag="style/image_name", wrap=width - THUMB_PX - 30)
        self.sync()

    def sync(self) -> None:
        doc = self.doc
        dpg.set_value(PROMPT, doc.prompt)
        dpg.set_value(MODE, MODE_LABELS[doc.style_mode])
        dpg.configure_item(HISTORY, items=list(self.settings.prompt_history))
        dpg.set_value("style/image_name", doc.style_image_name or "no reference image")
        if doc.style_image is not None:
            self.thumb[...] = thumbnail(doc.style_image, THUMB_PX)
        else:
            self.thumb[..., :3] = 0.1

    def show_reading(self, text: str) -> None:
        """What the style model read from the prompt or image that drives the head ("reads as: ...")."""
        self.reading = text
        dpg.set_value(READING, text)

    def focus_prompt(self) -> None:
        dpg.focus_item(PROMPT)

    def typing(self) -> bool:
        """True while the prompt field has the keyboard (shortcuts must not fire)."""
        return bool(dpg.is_item_active(PROMPT))

    def _mode_changed(self, sender, label: str, user_data) -> None:
        self.actions.set_style_mode("image" if label == MODE_LABELS["image"] else "text")

    def _history_picked(self, sender, text: str, user_data) -> None:
        if text:
            self.actions.apply_prompt(text)
