"""The renderer on its own: every element type lands where the browsers draw it."""

from __future__ import annotations

import numpy as np
from wb_helpers import element

from whiteboard.render import render_board, render_video_layer


def test_video_layer_shapes_at_normalised_coordinates() -> None:
    frame = np.full((200, 400, 3), (10, 20, 30), np.uint8)
    marks = [element("ellipse", [[0.1, 0.1], [0.3, 0.5]], color="#00ff00", width=20),
             element("arrow", [[0.5, 0.5], [0.9, 0.5]], color="#0000ff", width=20, index="a1"),
             element("highlighter", [[0.1, 0.9], [0.9, 0.9]], color="#ffff00", width=50,
                     index="a2"),
             element("sticky", [[0.6, 0.05], [0.95, 0.3]], color="#ffe066", text="",
                     index="a3"),
             {**element("rect", [[0, 0], [1, 1]], color="#ff0000", index="a4"),
              "deleted": True}]
    image = render_video_layer(marks, frame, 1280)
    assert image.shape == frame.shape and (frame == (10, 20, 30)).all()  # input untouched
    assert tuple(image[60, 40]) == (0, 255, 0)  # ellipse: left end of its horizontal axis
    assert tuple(image[60, 80]) == (10, 20, 30)  # its middle is empty
    assert tuple(image[100, 300]) == (255, 0, 0)  # arrow shaft
    assert tuple(image[95, 348]) == (255, 0, 0)  # arrow head, wider than the 4 px shaft
    assert tuple(image[95, 300]) == (10, 20, 30)
    blend = image[180, 200].astype(int)  # highlighter: 35 % yellow over the frame
    assert abs(blend - (0.35 * np.array([0, 255, 255]) + 0.65 * np.array([10, 20, 30]))
               ).max() <= 2
    assert tuple(image[30, 320]) == (102, 224, 255)  # sticky note filled (BGR of #ffe066)
    assert tuple(image[2, 2]) == (10, 20, 30)  # the deleted rectangle is not drawn


def test_without_a_frame_a_video_layer_is_16_by_9_and_a_board_covers_its_page() -> None:
    assert render_video_layer([], None, 640).shape == (360, 640, 3)
    page = render_board([], 2048, (1600, 900))
    assert page.shape == (900, 1600, 3) and (page == 255).all()
    far = render_board([element("line", [[0, 0], [4000, 0]], width=2)], 1000, (1600, 900))
    assert far.shape[1] == 1000  # scaled down to export_max_px on the long side
