"""Pixels of a QImage as a numpy array the test owns.

`np.frombuffer(img.convertToFormat(...).constBits())` is a use-after-free: the converted
image is a temporary, PySide's memoryview does not keep it alive, and numpy then reads
freed memory — it passed for weeks here and segfaulted on CI. So the converted image is
held in a local and the pixels are copied out before it goes."""
import numpy as np
from PySide6.QtGui import QImage


def rgb32(image: QImage) -> np.ndarray:
    """(height, width) uint32 0xffRRGGBB values, copied out of the image."""
    converted = image.convertToFormat(QImage.Format.Format_RGB32)
    rows = np.frombuffer(converted.constBits(), np.uint32,
                         converted.height() * converted.bytesPerLine() // 4)
    rows = rows.reshape(converted.height(), converted.bytesPerLine() // 4)
    return rows[:, :converted.width()].copy()


def rgb(image: QImage) -> np.ndarray:
    """(height, width, 3) uint8 red, green, blue."""
    pixels = rgb32(image)
    return np.stack([(pixels >> 16) & 0xFF, (pixels >> 8) & 0xFF, pixels & 0xFF],
                    axis=-1).astype(np.uint8)
