"""The check-up items' labels (特定健診の項目名), in Japanese and English.

Separate from the pages because both the terminal and the patient's medical
pages show check-ups with them.
"""

from __future__ import annotations

CHECKUP_LABELS: dict[str, tuple[str, str]] = {
    "height_cm": ("身長 (cm)", "height (cm)"),
    "weight_kg": ("体重 (kg)", "weight (kg)"),
    "bmi": ("BMI", "BMI"),
    "waist_cm": ("腹囲 (cm)", "waist (cm)"),
    "systolic_mmHg": ("収縮期血圧 (mmHg)", "systolic BP (mmHg)"),
    "diastolic_mmHg": ("拡張期血圧 (mmHg)", "diastolic BP (mmHg)"),
    "hba1c_percent": ("HbA1c (%)", "HbA1c (%)"),
    "fasting_glucose_mg_dl": ("空腹時血糖 (mg/dL)", "fasting glucose (mg/dL)"),
    "ldl_mg_dl": ("LDLコレステロール (mg/dL)", "LDL (mg/dL)"),
    "hdl_mg_dl": ("HDLコレステロール (mg/dL)", "HDL (mg/dL)"),
    "tg_mg_dl": ("中性脂肪 (mg/dL)", "triglycerides (mg/dL)"),
    "ast_u_l": ("AST (U/L)", "AST (U/L)"),
    "alt_u_l": ("ALT (U/L)", "ALT (U/L)"),
    "ggt_u_l": ("γ-GT (U/L)", "γ-GT (U/L)"),
    "urine_protein": ("尿蛋白", "urine protein"),
    "urine_glucose": ("尿糖", "urine glucose"),
}
