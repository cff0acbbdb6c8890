"""Start points: the sample-map gallery, loading any seg map, and opening a photo."""
from __future__ import annotations

import dearpygui.dearpygui as dpg
import numpy as np

from perchead_gui.app.actions import ProjectActions
from perchead_gui.gallery import SampleMap, thumbnail_rgb

THUMB_PX = 64
PER_ROW = 4
LABEL_MODES = ("auto", "palette", "index", "celebamask")
LABELS = "gallery/labels"


def labels_mode() -> str:
    """How "Load seg map..." reads a map's values, as chosen beside the button."""
    return str(dpg.get_value(LABELS) or "auto")


class GalleryPanel:
    def __init__(self, samples: list[SampleMap], actions: ProjectActions) -> None:
        self.actions = actions
        self.samples = samples

    def build(self, width: int) -> None:
        with dpg.texture_registry():
            for i, sample in enumerate(self.samples):
                rgb = thumbnail_rgb(sample.labels, THUMB_PX).astype(np.float32) / 255.0  # [T, T, 3]
                rgba = np.concatenate([rgb, np.ones((THUMB_PX, THUMB_PX, 1), np.float32)], axis=-1)
                dpg.add_static_texture(THUMB_PX, THUMB_PX, rgba.ravel(), tag=f"gallery/thumb/{i}")
        with dpg.child_window(tag="gallery", width=width, height=-1):
            dpg.add_text("Start from a sample")
            for start in range(0, len(self.samples), PER_ROW):
                with dpg.group(horizontal=True):
                    for i in range(start, min(start + PER_ROW, len(self.samples))):
                        dpg.add_image_button(f"gallery/thumb/{i}", tag=f"gallery/sample/{i}", width=THUMB_PX,
                                             height=THUMB_PX, callback=self._picked, user_data=i)
                        with dpg.tooltip(f"gallery/sample/{i}"):
                            dpg.add_text(self.samples[i].title)
                            dpg.add_text(self.samples[i].prompt, wrap=300)
            dpg.add_separator()
            with dpg.group(horizontal=True):
                dpg.add_button(label="Load seg map...", callback=lambda: self.actions.ask_segmap())
                dpg.add_combo(LABEL_MODES, tag=LABELS, default_value="auto", width=100)
            dpg.add_button(label="Open photo...", callback=lambda: self.actions.ask_photo())

    def _picked(self, sender, app_data, index: int) -> None:
        self.actions.load_sample(self.samples[index])
