"""Qt-free services of the desktop app: input images, models, the render queue and renderer, exports.

The Qt side (`g2g_desktop.ui`) runs these on its worker threads and shows what they return; they import
core only, never Qt, so they are tested and reused without a display.
"""
