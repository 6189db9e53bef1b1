"""The widgets' own furniture at the window's font scale.

Fonts follow MainWindow.setFont, but the style draws check boxes, radio buttons, slider
handles, scroll bars and icons at fixed pixel sizes: in presentation mode (fonts × 1.6)
a check box next to its label was a speck.  ScaledStyle is the application's style with
those pixel metrics multiplied by the font scale; apply_scale installs it (or, back at
scale 1, the plain style again, so a desk-size window runs on the unwrapped style).
"""
from __future__ import annotations

from PySide6.QtWidgets import QApplication, QProxyStyle, QStyle, QStyleFactory

SCALED_METRICS = frozenset({
    QStyle.PM_IndicatorWidth, QStyle.PM_IndicatorHeight,
    QStyle.PM_ExclusiveIndicatorWidth, QStyle.PM_ExclusiveIndicatorHeight,
    QStyle.PM_SmallIconSize, QStyle.PM_ToolBarIconSize, QStyle.PM_ButtonIconSize,
    QStyle.PM_TabBarIconSize, QStyle.PM_ListViewIconSize,
    QStyle.PM_SliderThickness, QStyle.PM_SliderLength, QStyle.PM_SliderControlThickness,
    QStyle.PM_ScrollBarExtent, QStyle.PM_ScrollBarSliderMin,
    QStyle.PM_ToolBarHandleExtent, QStyle.PM_ToolBarExtensionExtent,
    QStyle.PM_TitleBarButtonIconSize, QStyle.PM_TitleBarButtonSize,
})


class ScaledStyle(QProxyStyle):
    def __init__(self, base_name: str, scale: float):
        super().__init__(QStyleFactory.create(base_name))
        self.base_name = base_name
        self.scale = float(scale)

    def pixelMetric(self, metric, option=None, widget=None):
        value = super().pixelMetric(metric, option, widget)
        return round(value * self.scale) if metric in SCALED_METRICS else value


def style_scale() -> float:
    style = QApplication.instance().style()
    return style.scale if isinstance(style, ScaledStyle) else 1.0


def apply_scale(scale: float):
    """Install the application's style at `scale` (no-op if it is already there)."""
    app = QApplication.instance()
    current = app.style()
    if abs(style_scale() - scale) < 1e-6:
        return
    global _installed
    name = current.base_name if isinstance(current, ScaledStyle) else current.name()
    # setStyle takes ownership (and deletes the previous style), then repolishes every
    # widget; the reference kept here keeps Python from collecting the wrapper meanwhile.
    _installed = QStyleFactory.create(name) if abs(scale - 1.0) < 1e-6 else ScaledStyle(name, scale)
    app.setStyle(_installed)


_installed = None
