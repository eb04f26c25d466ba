"""The demo's assessments: two qualification tests and a calibration test, each with its item pool
(keys included: the demo authors them), and who answers what wrongly.

Items are ``item_add`` fields. Positions below are the items' positions in their test (1-based, in
the order listed), which is how the demo takers' mistakes are named, whatever order an attempt
serves them in.
"""

from __future__ import annotations

RADIOLOGY_TITLE = "Diagnostic radiology reading"
PYTHON_TITLE = "Python code review"
CALIBRATION_TITLE = "Radiology report preferences: calibration set"
ROUND_TITLE = "Report-preference pilot: Meridian vs Northwind"

RADIOLOGY_TEST = {
    "title": RADIOLOGY_TITLE,
    "domain": "radiology",
    "instructions": "Answer as the reporting radiologist. Eight items are drawn from the pool; the free-text "
    "impression, when drawn, is graded by operations against its rubric.",
    "time_limit_minutes": 40,
    "items_per_attempt": 8,
    "max_attempts": 3,
    "cooldown_hours": 72,
    "show_explanations": True,
    "pass_rule": "wilson_lower",
    "pass_threshold": "0.6",
    "qualification_valid_days": 365,
}

RADIOLOGY_ITEMS = [
    {
        "type": "single_choice",
        "section": "Neuro",
        "prompt": "Non-contrast head CT after a fall: which appearance is typical of an acute subdural haematoma?",
        "options": [
            "Crescentic hyperdense collection crossing suture lines",
            "Biconvex hyperdense collection limited by suture lines",
            "Hypodense wedge in a middle cerebral artery territory",
            "Ring-enhancing lesion with surrounding oedema",
        ],
        "key": 0,
        "explanation": "Subdural blood spreads along the convexity and crosses sutures; extradural blood does not.",
    },
    {
        "type": "single_choice",
        "section": "Chest",
        "prompt": "Haemodynamically stable adult, positive D-dimer, suspected pulmonary embolism: first-line imaging?",
        "options": [
            "CT pulmonary angiography",
            "Chest radiograph alone",
            "Non-contrast chest CT",
            "Abdominal ultrasound",
        ],
        "key": 0,
        "explanation": "CTPA, unless contrast is contraindicated (then V/Q scintigraphy).",
    },
    {
        "type": "multiple_choice",
        "section": "Abdomen",
        "prompt": "Which are CT signs of acute appendicitis? Select all that apply.",
        "options": [
            "Appendiceal diameter over 6 mm",
            "Periappendiceal fat stranding",
            "Appendicolith",
            "Calcified mesenteric lymph nodes",
        ],
        "key": [0, 1, 2],
        "explanation": "Calcified nodes point to old granulomatous disease, not appendicitis.",
    },
    {
        "type": "multiple_choice",
        "section": "Neuro",
        "prompt": "Which MRI sequences confirm an acute ischaemic infarct within the first hours? Select all that apply.",
        "options": ["Diffusion-weighted imaging (DWI)", "ADC map", "T1 after gadolinium", "Susceptibility-weighted"],
        "key": [0, 1],
        "explanation": "Restricted diffusion: bright on DWI, dark on ADC.",
    },
    {
        "type": "ab_preference",
        "section": "Reports",
        "prompt": "CT KUB shows a 4 mm non-obstructing calculus in the right lower-pole calyx. Which impression "
        "would a consultant sign?",
        "options": [
            "4 mm non-obstructing right lower-pole calculus. No hydronephrosis.",
            "Right renal stone, possibly obstructing; clinical correlation recommended.",
        ],
        "key": "A",
        "allow_tie": True,
        "ask_strength": True,
        "explanation": "B invents an obstruction the study does not show.",
    },
    {
        "type": "ab_preference",
        "section": "Reports",
        "prompt": "The chest radiograph shows a small left apical pneumothorax. Which report is better?",
        "options": [
            "Clear lungs. No focal consolidation.",
            "No consolidation or effusion. Normal heart size.",
        ],
        "key": "tie",
        "allow_tie": True,
        "ask_strength": True,
        "explanation": "Both miss the same clinically significant finding: a tie, per the guidelines.",
    },
    {
        "type": "ab_preference",
        "section": "Reports",
        "prompt": "MRI lumbar spine: L4/5 disc extrusion compressing the right L5 nerve root. Which impression is better?",
        "options": [
            "Degenerative changes of the lumbar spine.",
            "L4/5 right paracentral extrusion compressing the traversing right L5 root.",
        ],
        "key": "B",
        "allow_tie": True,
        "ask_strength": True,
        "explanation": "A omits the finding that explains the symptoms.",
    },
    {
        "type": "likert",
        "section": "Reports",
        "prompt": "Trauma CT also shows a left 10th rib fracture. Rate this report's completeness (1 = dangerously "
        "incomplete, 5 = complete): 'Liver, spleen and pancreas normal. No free fluid.'",
        "likert_points": 5,
        "key": 2,
        "explanation": "The fracture, and the splenic injury it warns of, must be mentioned.",
    },
    {
        "type": "likert",
        "section": "Reports",
        "prompt": "Rate this knee MRI report's completeness (1-5) for a study showing exactly this: 'Complete ACL "
        "tear; bone bruising of the lateral femoral condyle and posterolateral tibial plateau; menisci intact.'",
        "likert_points": 5,
        "key": 5,
    },
    {
        "type": "numeric",
        "section": "Measurement",
        "prompt": "A target lesion measured 20 mm at baseline and 26 mm at follow-up. Percentage increase (RECIST)?",
        "key": "30",
        "numeric_tolerance": "0.5",
        "explanation": "(26 - 20) / 20 = 30%: progressive disease (at least 20% and 5 mm).",
    },
    {
        "type": "numeric",
        "section": "Measurement",
        "prompt": "Cardiac MRI: end-diastolic volume 120 ml, end-systolic volume 54 ml. Ejection fraction, in percent?",
        "key": "55",
        "numeric_tolerance": "1",
    },
    {
        "type": "free_text",
        "section": "Reports",
        "prompt": "Write the impression: non-contrast CT head, 78-year-old on apixaban after a fall; 8 mm left "
        "frontoparietal crescentic hyperdense collection with 3 mm rightward midline shift.",
        "rubric": [
            {"criterion": "Names an acute left subdural haematoma", "points": 4},
            {"criterion": "Reports the mass effect and midline shift", "points": 3},
            {"criterion": "Flags urgency: anticoagulation and neurosurgical referral", "points": 3},
        ],
    },
]

RADIOLOGY_GOOD_IMPRESSION = (
    "Acute left frontoparietal subdural haematoma, 8 mm, with 3 mm rightward midline shift. Patient anticoagulated: "
    "urgent neurosurgical referral and reversal advised; findings phoned to the referring team."
)
RADIOLOGY_WEAK_IMPRESSION = "Left-sided extra-axial collection. Suggest follow-up CT."

PYTHON_REVIEW_COMMENT = (
    "This function parses the request, validates it and writes SQL. Could we split it into parse_request, "
    "validate_order and save_order, moving one piece per PR with its tests? Happy to pair on the first."
)

PYTHON_TEST = {
    "title": PYTHON_TITLE,
    "domain": "python",
    "instructions": "Review the snippets as you would a pull request. Six items are drawn from the pool.",
    "time_limit_minutes": 24 * 60,
    "items_per_attempt": 6,
    "max_attempts": 2,
    "cooldown_hours": 24,
    "pass_rule": "raw_ratio",
    "pass_threshold": "0.75",
}

PYTHON_ITEMS = [
    {
        "type": "single_choice",
        "section": "Correctness",
        "prompt": "def add(item, items=[]): items.append(item); return items. What is the bug?",
        "options": [
            "The default list is shared between calls",
            "append returns None",
            "items shadows a builtin",
            "Nothing: it is idiomatic",
        ],
        "key": 0,
    },
    {
        "type": "single_choice",
        "section": "Correctness",
        "prompt": "What does len({1, True, 1.0}) return?",
        "options": ["1", "2", "3", "It raises TypeError"],
        "key": 0,
    },
    {
        "type": "multiple_choice",
        "section": "Security",
        "prompt": "Which of these need a change before merging? Select all that apply.",
        "options": [
            'cursor.execute(f"SELECT * FROM users WHERE id = {user_id}")',
            "subprocess.run(cmd, shell=True) with cmd built from a request",
            "yaml.safe_load(stream)",
            "secrets.token_urlsafe(32) for a reset token",
        ],
        "key": [0, 1],
    },
    {
        "type": "ab_preference",
        "section": "Review style",
        "prompt": "Which review comment is more useful on a function that swallows every exception?",
        "options": [
            "This is bad.",
            "`except Exception: pass` hides the failure; catch `KeyError` here and log anything else.",
        ],
        "key": "B",
        "allow_tie": True,
        "ask_strength": True,
    },
    {
        "type": "likert",
        "section": "Review style",
        "prompt": "Rate the test coverage (1 = none, 5 = thorough) of a PR that adds a parser with one happy-path test.",
        "likert_points": 5,
        "key": 2,
    },
    {
        "type": "numeric",
        "section": "Correctness",
        "prompt": "How many times does the body of `for i in range(2, 20, 3):` run?",
        "key": "6",
        "numeric_tolerance": "0",
    },
    {
        "type": "single_choice",
        "section": "Performance",
        "prompt": "`if x in big_list` runs inside a loop over 100,000 rows. The best fix?",
        "options": ["Build a set once and test membership in it", "Sort the list first", "Use list.index", "Cache x"],
        "key": 0,
    },
    {
        "type": "free_text",
        "section": "Review style",
        "prompt": "Write the review comment for a 400-line function mixing HTTP parsing, validation and SQL.",
        "rubric": [
            {"criterion": "Names the concerns to separate", "points": 3},
            {"criterion": "Proposes a concrete, incremental split", "points": 3},
            {"criterion": "Stays respectful and specific", "points": 2},
        ],
    },
]

CALIBRATION_TEST = {
    "title": CALIBRATION_TITLE,
    "domain": "radiology",
    "kind": "calibration",
    "instructions": "Six keyed report pairs from the pilot's guidelines. Judge each as you would in production.",
    "time_limit_minutes": 30,
    "items_per_attempt": 6,
    "max_attempts": 1,
}

CALIBRATION_ITEMS = [
    {
        "type": "ab_preference",
        "prompt": "CT chest: 12 mm spiculated right upper lobe nodule. Which report would a consultant sign?",
        "options": [
            "12 mm spiculated RUL nodule, suspicious for malignancy; recommend PET-CT and MDT discussion.",
            "Small lung nodule, likely benign; no follow-up needed.",
        ],
        "key": "A",
        "allow_tie": True,
        "ask_strength": True,
    },
    {
        "type": "ab_preference",
        "prompt": "CT abdomen: simple 3 cm left renal cyst (Bosniak I). Which report is better?",
        "options": [
            "Left renal lesion, indeterminate; MRI recommended.",
            "3 cm simple left renal cyst (Bosniak I). No follow-up needed.",
        ],
        "key": "B",
        "allow_tie": True,
    },
    {
        "type": "ab_preference",
        "prompt": "Both reports of a head CT omit a small right parietal skull fracture. Which is better?",
        "options": ["No acute intracranial abnormality.", "No haemorrhage, mass effect or hydrocephalus."],
        "key": "tie",
        "allow_tie": True,
    },
    {
        "type": "single_choice",
        "prompt": "Two reports are equally correct; one is twice as long. Under the guidelines, which do you prefer?",
        "options": ["The shorter one", "The longer one", "Mark a tie", "Neither"],
        "key": 0,
    },
    {
        "type": "likert",
        "prompt": "How clinically safe is 'No acute abnormality' for a CT showing a 2 mm non-displaced rib fracture? "
        "(1 = unsafe, 5 = safe)",
        "likert_points": 5,
        "key": 3,
    },
    {
        "type": "numeric",
        "prompt": "A report gives the aorta as 4.8 cm; you measure 5.1 cm. Difference, in millimetres?",
        "key": "3",
        "numeric_tolerance": "0.5",
    },
]

# Positions each demo taker answers wrongly (everything else is answered with the key).
RADIOLOGY_FAILING_MISSES = frozenset({1, 3, 4, 6, 8, 10, 12})  # half the pool, the impression included
PYTHON_PARTIAL_ANSWERS = 3  # expert3 has saved this many answers of an attempt still in progress
CALIBRATION_MISSES = {  # by demo e-mail: Meridian's radiologist is perfect, Northwind's readers split on ties
    "expert1@demo.test": frozenset(),
    "expert2@demo.test": frozenset({5}),
    "northwind1@demo.test": frozenset({3}),
    "northwind2@demo.test": frozenset({3, 4, 6}),
}
