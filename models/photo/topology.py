"""Index lists into MediaPipe's face mesh (468 points + 10 iris points with refine_landmarks).

Orders follow each contour around its outline, so a list is a polygon. "Right" and "left" are the
subject's: the right eye lies on the image's left in an unmirrored photo. Indices come from
MediaPipe's own ``face_mesh_connections`` (FACEMESH_FACE_OVAL, _LIPS, _EYE, _EYEBROW, _NOSE),
chained into loops.
"""
from __future__ import annotations

NUM_LANDMARKS = 478  # 468 mesh points + 2 x 5 iris points (refine_landmarks=True)

FACE_OVAL = (10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377,
             152, 148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109)
RIGHT_EYE = (33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246)
LEFT_EYE = (263, 249, 390, 373, 374, 380, 381, 382, 362, 398, 384, 385, 386, 387, 388, 466)
RIGHT_BROW = (46, 53, 52, 65, 55, 107, 66, 105, 63, 70)      # lower edge out -> in, upper edge in -> out
LEFT_BROW = (276, 283, 282, 295, 285, 336, 296, 334, 293, 300)
LIPS_OUTER_UPPER = (61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291)   # mouth corner to mouth corner
LIPS_OUTER_LOWER = (61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291)
LIPS_INNER_UPPER = (78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308)
LIPS_INNER_LOWER = (78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308)
NOSE = (168, 6, 197, 195, 5, 4, 1, 19, 94, 2, 98, 97, 326, 327, 294, 278, 344, 440, 275, 45, 220, 115, 48, 64)
RIGHT_IRIS_CENTRE, LEFT_IRIS_CENTRE = 468, 473

# Named single points used for layout
CHIN = 152
FOREHEAD_TOP = 10
NOSE_TIP = 1
SUBNASALE = 2                  # where the nose meets the upper lip
FACE_SIDE_RIGHT, FACE_SIDE_LEFT = 234, 454   # the oval's widest points, in front of the ears
JAW_RIGHT, JAW_LEFT = 58, 288                # the oval's lower corners, where the neck begins


def upper_lip() -> tuple[int, ...]:
    return LIPS_OUTER_UPPER + tuple(reversed(LIPS_INNER_UPPER))


def lower_lip() -> tuple[int, ...]:
    return LIPS_OUTER_LOWER + tuple(reversed(LIPS_INNER_LOWER))


def inner_mouth() -> tuple[int, ...]:
    return LIPS_INNER_UPPER + tuple(reversed(LIPS_INNER_LOWER[1:-1]))


def outer_lips() -> tuple[int, ...]:
    return LIPS_OUTER_UPPER + tuple(reversed(LIPS_OUTER_LOWER[1:-1]))
