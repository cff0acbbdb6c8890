"""The window's content and tool actions without a window: dirty tracking, the project round
trip, and which panels an action flags for redrawing."""
from __future__ import annotations

import numpy as np
import pytest

from perchead_gui.app.document import Changes, Document, fit_labels
from perchead_gui.app.editing import Editor

S = 32
HAIR = 9


def test_painting_and_style_make_the_document_dirty_and_the_camera_does_not() -> None:
    doc = Document(S)
    doc.mark_saved()
    assert not doc.dirty and doc.title_name() == "untitled"
    doc.orbit.drag(30, 5)
    assert not doc.dirty, "camera moves are not unsaved work"
    labels = np.zeros((S, S), np.uint8)
    labels[4:10, 4:10] = HAIR
    doc.canvas.set_labels(labels)
    assert doc.dirty
    doc.mark_saved()
    doc.set_style_image(np.ones((8, 8, 4), np.float32), "ref.png")
    assert doc.dirty and doc.style_mode == "image"
    doc.mark_saved()
    doc.style_image = doc.style_image  # a new reference image, even an equal one, is a change
    assert doc.dirty
    doc.mark_saved()
    doc.mark_unsaved()
    assert doc.dirty


def test_a_project_round_trips_through_the_document() -> None:
    doc = Document(S)
    labels = np.zeros((S, S), np.uint8)
    labels[2:20, 3:9] = HAIR
    doc.canvas.set_labels(labels)
    doc.prompt = "short black hair"
    doc.set_style_image(np.full((6, 4, 4), 0.5, np.float32), "ref.png")
    doc.orbit.drag(40, -10)
    doc.state.view_mode = "depth"
    project = doc.project()

    other = Document(S)
    other.apply(project, None)
    np.testing.assert_array_equal(other.canvas.labels, labels)
    assert not other.canvas.can_undo, "an opened project starts a fresh history"
    assert other.prompt == "short black hair" and other.style_mode == "image"
    assert other.style_image_name == "from the project"
    assert other.orbit.to_dict() == doc.orbit.to_dict() and other.state.view_mode == "depth"


def test_a_map_of_another_size_is_resampled_to_the_canvas() -> None:
    labels = np.zeros((64, 64), np.uint8)
    labels[:32] = HAIR
    fitted = fit_labels(labels, S)
    assert fitted.shape == (S, S) and (fitted[:16] == HAIR).all() and (fitted[16:] == 0).all()


def test_editor_actions_change_the_state_and_flag_their_panel() -> None:
    doc, changes = Document(S), Changes()
    editor = Editor(doc, changes)
    editor.select_tool("eraser")
    editor.select_class(HAIR)
    assert doc.state.label == HAIR and doc.state.tool == "brush" and changes.tools and not changes.view
    changes.clear()
    editor.set_background((2.0, -1.0, 0.5))
    assert doc.state.background == (1.0, 0.0, 0.5) and changes.view and not changes.tools
    editor.toggle_turntable()
    assert doc.state.turntable
    with pytest.raises(ValueError):
        editor.set_view_mode("wireframe")
    with pytest.raises(ValueError):
        editor.set_overlay("x-ray")
    doc.orbit.drag(50, 0)
    editor.reset_view()
    assert doc.orbit.yaw == Document(S).orbit.yaw
