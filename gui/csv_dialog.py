"""The CSV preview dialog: the file's first rows, each column's detected kind and a role
picker (feature / target / ignore), the missing-value choice with the rows each keeps,
standardising and the test fraction.  It returns core ImportOptions; every count, check
and summary it shows comes from core (rows_kept, plan_import)."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QAbstractItemView, QButtonGroup, QCheckBox, QComboBox, QDialog,
                               QDialogButtonBox, QGroupBox, QHBoxLayout, QHeaderView, QLabel,
                               QRadioButton, QSpinBox, QTableWidget, QTableWidgetItem,
                               QVBoxLayout, QWidget)

from core.csv_dataset import ImportOptions, default_options, kind_used, plan_import, rows_kept
from core.errors import CSVImportError
from core.tabular import ROLES, CSVTable

USE_AS = ("numeric", "categorical")
_COLUMNS = ("Column", "Kind", "Values", "Missing", "Role", "Use as")
_ERROR_STYLE = "color: #b00020;"


class CSVImportDialog(QDialog):
    def __init__(self, table: CSVTable, parent: QWidget | None = None,
                 options: ImportOptions | None = None, seed: int = 0):
        super().__init__(parent)
        self.table = table
        start = options or default_options(table)
        self._seed = start.seed if options else seed
        self._overrides = dict(start.kinds)
        self.setWindowTitle(f"Open {table.name}")
        self.resize(920, 680)
        layout = QVBoxLayout(self)
        heading = QLabel(f"<b>{table.describe()}</b>")
        heading.setTextFormat(Qt.RichText)
        layout.addWidget(heading)
        if table.notes:
            notes = QLabel("\n".join(table.notes))
            notes.setWordWrap(True)
            layout.addWidget(notes)
        layout.addWidget(QLabel("First rows"))
        layout.addWidget(self._preview_table(), 2)
        layout.addWidget(QLabel("Columns: choose the target (what to predict) and the features"))
        self.columns_table = self._columns_table(start)
        layout.addWidget(self.columns_table, 3)
        layout.addWidget(self._missing_box(start))
        layout.addLayout(self._scaling_row(start))
        self.summary_label = QLabel()
        self.summary_label.setWordWrap(True)
        layout.addWidget(self.summary_label)
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.ok_button = buttons.button(QDialogButtonBox.Ok)
        layout.addWidget(buttons)
        self._refresh()

    # -- building the widgets ----------------------------------------------------------
    def _preview_table(self) -> QTableWidget:
        rows = self.table.preview()
        view = QTableWidget(len(rows), len(self.table.columns))
        view.setHorizontalHeaderLabels(self.table.column_names)
        view.setEditTriggers(QAbstractItemView.NoEditTriggers)
        for r, row in enumerate(rows):
            for c, text in enumerate(row):
                view.setItem(r, c, QTableWidgetItem(text))
        view.resizeColumnsToContents()
        return view

    def _columns_table(self, start: ImportOptions) -> QTableWidget:
        view = QTableWidget(len(self.table.columns), len(_COLUMNS))
        view.setHorizontalHeaderLabels(_COLUMNS)
        view.verticalHeader().setVisible(False)
        view.setEditTriggers(QAbstractItemView.NoEditTriggers)
        view.setSelectionMode(QAbstractItemView.NoSelection)
        self._role_boxes, self._type_boxes = {}, {}
        for r, column in enumerate(self.table.columns):
            kind = column.kind + (" (identifier)" if column.identifier else "")
            cells = (column.name, kind, column.summary, str(column.n_missing or ""))
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(column.warning or column.summary)
                view.setItem(r, c, item)
            if column.warning:
                view.item(r, 1).setText(kind + " ⚠")
            role = QComboBox()
            role.addItems(ROLES)
            role.setCurrentText(start.role(self.table, column.name))
            role.currentTextChanged.connect(lambda text, name=column.name: self._role_changed(name, text))
            use_as = QComboBox()
            use_as.addItems(USE_AS)
            use_as.activated.connect(lambda _, name=column.name: self._type_chosen(name))
            view.setCellWidget(r, 4, role)
            view.setCellWidget(r, 5, use_as)
            self._role_boxes[column.name], self._type_boxes[column.name] = role, use_as
        header = view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.Stretch)
        return view

    def _missing_box(self, start: ImportOptions) -> QGroupBox:
        box = QGroupBox("Rows with missing values")
        row = QHBoxLayout(box)
        self.drop_button = QRadioButton()
        self.fill_button = QRadioButton()
        group = QButtonGroup(box)
        for button in (self.drop_button, self.fill_button):
            group.addButton(button)
            row.addWidget(button)
        (self.fill_button if start.missing == "fill" else self.drop_button).setChecked(True)
        self.fill_button.toggled.connect(self._refresh)
        return box

    def _scaling_row(self, start: ImportOptions) -> QHBoxLayout:
        row = QHBoxLayout()
        self.standardise_box = QCheckBox("Standardise inputs and a numeric target (v − mean) / std")
        self.standardise_box.setChecked(start.standardise)
        self.standardise_box.setToolTip("Off: the network sees the raw numbers — the lecture's "
                                        "lesson about why scaling matters")
        self.test_percent = QSpinBox()
        self.test_percent.setRange(0, 90)
        self.test_percent.setSingleStep(5)
        self.test_percent.setSuffix(" %")
        self.test_percent.setValue(int(round(start.test_fraction * 100)))
        self.standardise_box.toggled.connect(self._refresh)
        self.test_percent.valueChanged.connect(self._refresh)
        row.addWidget(self.standardise_box)
        row.addStretch(1)
        row.addWidget(QLabel("Held out as test set:"))
        row.addWidget(self.test_percent)
        return row

    # -- reacting ------------------------------------------------------------------------
    def role_box(self, name: str) -> QComboBox:
        return self._role_boxes[name]

    def type_box(self, name: str) -> QComboBox:
        return self._type_boxes[name]

    def _role_changed(self, name: str, role: str):
        if role == "target":        # one target: the previous one goes back to its default
            for other, box in self._role_boxes.items():
                if other != name and box.currentText() == "target":
                    box.blockSignals(True)
                    box.setCurrentText(self.table.column(other).default_role)
                    box.blockSignals(False)
        self._refresh()

    def _type_chosen(self, name: str):
        self._overrides[name] = self._type_boxes[name].currentText()
        self._refresh()

    def options(self) -> ImportOptions:
        roles = {name: box.currentText() for name, box in self._role_boxes.items()}
        target = next((n for n, r in roles.items() if r == "target"), None)
        return ImportOptions(
            target=target, features=[n for n, r in roles.items() if r == "feature"],
            kinds=dict(self._overrides),
            missing="fill" if self.fill_button.isChecked() else "drop",
            standardise=self.standardise_box.isChecked(),
            test_fraction=self.test_percent.value() / 100, seed=self._seed)

    def _refresh(self):
        options = self.options()
        for name, box in self._type_boxes.items():
            if name not in self._overrides:
                role = self._role_boxes[name].currentText()
                box.setCurrentText(kind_used(self.table.column(name), role, options))
        kept = rows_kept(self.table, options)
        total = self.table.n_rows
        self.drop_button.setText(f"Drop incomplete rows — keeps {kept['drop']} of {total}")
        self.fill_button.setText(f"Fill with the mean / most frequent value — keeps {kept['fill']} of {total}")
        try:
            summary = plan_import(self.table, options).summary()
        except CSVImportError as e:
            self.summary_label.setStyleSheet(_ERROR_STYLE)
            self.summary_label.setText(str(e))
            self.ok_button.setEnabled(False)
            return
        self.summary_label.setStyleSheet("")
        self.summary_label.setText(summary[0].upper() + summary[1:])
        self.ok_button.setEnabled(True)
