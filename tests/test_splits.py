"""fcot selects exactly the official train/test questions of all 12 tasks, plus a seeded validation split.

The official split files index into the official processed datasets (built by the official
``notebooks/old/Data Preparation.ipynb``); these tests check that fcot's datasets have the same
order and text, so the same indices mean the same questions.
"""

from __future__ import annotations

import json

import pytest

from fcot import tasks
from fcot.paths import fetch

ALL_TASKS = tasks.task_names()
LOADABLE = [t for t in ALL_TASKS if t != "aqua"]  # AQuA train.json is not in the mirror


def _raw(file_relpath: str, mirror):
    return json.loads((mirror / file_relpath).read_text(encoding="utf-8"))


def _official_indices(task: str, mirror, split: str = "default"):
    data = _raw(f"itsnamgyu/reasoning-teacher/data/split/{task}__{split}.json", mirror)
    return data["train"], data["test"]


def test_there_are_the_papers_12_tasks_with_their_answer_types():
    assert ALL_TASKS == [
        "single_eq", "addsub", "multiarith", "gsm8k", "aqua", "svamp", "date_understanding",
        "tracking_shuffled_objects", "last_letter_concatenation", "coin_flip", "commonsense_qa", "strategy_qa",
    ]
    types = {name: tasks.get_task(name).answer_type for name in ALL_TASKS}
    assert [t for t, a in types.items() if a == "number"] == ["single_eq", "addsub", "multiarith", "gsm8k", "svamp"]
    assert {t for t, a in types.items() if a == "choice"} == {
        "aqua", "commonsense_qa", "date_understanding", "tracking_shuffled_objects"}
    assert {t for t, a in types.items() if a == "yes_no"} == {"coin_flip", "strategy_qa"}
    assert types["last_letter_concatenation"] == "text"


@pytest.mark.parametrize("task", ALL_TASKS)
def test_official_rules_regenerate_the_official_default_split_file(task, mirror):
    # same dataset sizes and the same RandomState(0) rule as the official generate_split.py
    assert tasks.default_split_indices(task) == tuple(_official_indices(task, mirror))


@pytest.mark.parametrize("task", LOADABLE)
def test_default_split_selects_the_official_train_and_test_indices(task, mirror):
    official_train, official_test = _official_indices(task, mirror)
    split = tasks.load_split(task)
    assert split.official_train_indices == official_train
    assert split.test_indices == official_test
    assert [e.index for e in split.test] == official_test
    assert [e.index for e in split.official_train] == official_train
    assert sorted(split.train_indices + split.validation_indices) == official_train
    examples = tasks.load_examples(task)
    assert len(examples) == tasks.get_task(task).dataset_size
    assert all(e.index == i and e.id == str(i) and e.task == task for i, e in enumerate(examples))
    assert all(e.answer_type == tasks.get_task(task).answer_type for e in examples)


def test_aqua_test_side_loads_alone_with_the_official_indices(mirror):
    official_train, official_test = _official_indices("aqua", mirror)
    split = tasks.load_split("aqua", test_only=True)
    assert split.test_indices == official_test == list(range(97467, 97721))
    assert [e.index for e in split.test] == official_test
    assert split.official_train_indices == official_train and len(official_train) == 10000
    assert split.train == [] and split.validation == []
    assert tasks.load_examples("aqua", part="test") == split.test


@pytest.mark.parametrize("task, train_size, test_size", [("multiarith", 413, 187), ("date_understanding", 261, 108)])
def test_template_split_selects_the_official_template_indices(task, train_size, test_size, mirror):
    official_train, official_test = _official_indices(task, mirror, "template")
    split = tasks.load_split(task, "template")
    assert split.name == "template"
    assert (len(official_train), len(official_test)) == (train_size, test_size)
    assert split.official_train_indices == official_train and [e.index for e in split.test] == official_test


# Example 20 of each official processed dataset, as printed by the official Data Preparation notebook
# (its "Load Data" cell reads the saved datasets the split files index into). Gold answers are in
# fcot's canonical form (the official strings were e.g. "16.0", "186.0", "Yes").
OFFICIAL_EXAMPLE_20 = [
    ("single_eq", "Sam had 9 dimes in his bank. His dad gave him 7 more dimes. How many dimes does Sam have now ?", "16"),
    ("addsub", "Melanie had 7 dimes in her bank . Her dad gave her 8 dimes and her mother gave her 4 dimes . "
               "How many dimes does Melanie have now ?", "19"),
    ("multiarith", "For the school bake sale Katie made pastries. She baked 7 cupcakes and 5 cookies. After the sale "
                   "she had 8 to take back home. How many pastries did she sell?", "4"),
    ("gsm8k", "Bella bought stamps at the post office. Some of the stamps had a snowflake design, some had a truck "
              "design, and some had a rose design. Bella bought 11 snowflake stamps. She bought 9 more truck stamps "
              "than snowflake stamps, and 13 fewer rose stamps than truck stamps. How many stamps did Bella buy in all?",
     "38"),
    ("svamp", "Baker made 121 cakes. He sold 105 of them and bought 170 new cakes. How many cakes does baker still have?",
     "186"),
    ("commonsense_qa", "What does playing soccer for a long time lead to? Answer choices: (A) excitement, (B) fatigue, "
                       "(C) anger, (D) hurting, (E) getting tired.", "E"),
    ("strategy_qa", "Karachi was a part of Alexander the Great's success?", "yes"),
    ("tracking_shuffled_objects",
     "Alice, Bob, and Claire are playing a game. At the start of the game, they are each holding a ball: Alice has a "
     "blue ball, Bob has a yellow ball, and Claire has a green ball. \n\nAs the game progresses, pairs of players trade "
     "balls. First, Bob and Claire swap balls. Then, Bob and Alice swap balls. Finally, Bob and Claire swap balls. At "
     "the end of the game, Claire has the \nWhich choice is true? Answer choices: (A) blue ball, (B) yellow ball, "
     "(C) green ball.", "A"),
    ("date_understanding", "Tomorrow is 11/12/2019. What is the date yesterday in MM/DD/YYYY?\nWhich choice is true? "
                           "Answer choices: (A) 09/10/2019, (B) 11/06/2019, (C) 11/10/2019, (D) 11/11/2019, "
                           "(E) 11/10/2076, (F) 11/17/2019.", "C"),
    ("coin_flip", 'A coin is heads up. Jessy does not flip the coin. Libby does not flip the coin. Danielle flips the '
                  'coin. Red flips the coin. Is the coin still heads up? Note that "flip" here means "reverse".', "yes"),
    ("last_letter_concatenation", 'Take the last letters of each words in "Jessy Libby Danielle Red" and concatenate '
                                  'them.', "yyed"),
]


@pytest.mark.parametrize("task, question, answer", OFFICIAL_EXAMPLE_20, ids=[row[0] for row in OFFICIAL_EXAMPLE_20])
def test_example_20_is_the_official_processed_example(task, question, answer):
    example = tasks.load_examples(task)[20]
    assert example.question == question
    assert example.answer == answer


# Answers of the first 40 examples, as printed by the official notebook from its processed datasets.
OFFICIAL_FIRST_40_ANSWERS = {
    "date_understanding": "FBDFCDAFDBCAEABFBBFECDDEFFBADEBBDBCBFFDC",
    "tracking_shuffled_objects": "CBACBAACBBACBACBACCBABACBACACBACBBACCBAC",
    "commonsense_qa": "ABADCDEBEDBCCACDEDDBEBDECDDDEACBDDCDDAED",
}


@pytest.mark.parametrize("task", sorted(OFFICIAL_FIRST_40_ANSWERS))
def test_gold_letters_of_the_first_40_examples_match_the_official_dataset(task):
    assert "".join(e.answer for e in tasks.load_examples(task)[:40]) == OFFICIAL_FIRST_40_ANSWERS[task]


def test_first_test_questions_are_the_raw_upstream_questions(mirror):
    gsm8k_test = (mirror / "openai/grade-school-math/grade_school_math/data/test.jsonl").read_text(encoding="utf-8")
    first = json.loads(gsm8k_test.splitlines()[0])
    assert tasks.load_split("gsm8k").test[0].question == first["question"]

    dev = (mirror / "kojima-takeshi188/zero_shot_cot/dataset/CommonsenseQA/dev_rand_split.jsonl").read_text(encoding="utf-8")
    row = json.loads(dev.splitlines()[0])
    csqa = tasks.load_split("commonsense_qa").test[0]
    assert csqa.index == 9741
    assert csqa.question == (
        row["question"]["stem"] + " Answer choices: (A) bank, (B) library, (C) department store, (D) mall, (E) new york."
    )
    assert csqa.answer == row["answerKey"] == "A"

    aqua_raw = json.loads((mirror / "kojima-takeshi188/zero_shot_cot/dataset/AQuA/test.json").read_text(encoding="utf-8").splitlines()[0])
    aqua = tasks.load_examples("aqua", part="test")[0]
    assert aqua.question.startswith(aqua_raw["question"].strip() + " Answer choices: (A) ")
    assert aqua.question.endswith("(C) 7(√3 – 1), (D) 8(√3 – 2), (E) None of these.")
    assert aqua.choices == tuple(option[2:] for option in aqua_raw["options"])
    assert aqua.answer == aqua_raw["correct"]

    coin_raw = _raw("kojima-takeshi188/zero_shot_cot/dataset/coin_flip/coin_flip.json", mirror)["examples"]
    coin = tasks.load_split("coin_flip")
    assert coin.test[0].question == coin_raw[coin.test_indices[0]]["question"]

    strategy_raw = _raw("kojima-takeshi188/zero_shot_cot/dataset/StrategyQA/task.json", mirror)["examples"]
    strategy = tasks.load_split("strategy_qa").test[0]
    assert strategy.question == strategy_raw[strategy.index]["input"].strip()


def test_date_choices_are_shuffled_deterministically_and_gold_points_to_the_right_date(mirror):
    first = tasks.load_examples("date_understanding")[0]
    assert first.question == (
        "Yesterday was April 30, 2021. What is the date today in MM/DD/YYYY?\nWhich choice is true? Answer choices: "
        "(A) 06/12/2021, (B) 03/11/2021, (C) 02/23/2021, (D) 05/09/2021, (E) 04/29/2021, (F) 05/01/2021."
    )
    assert first.choices == ("06/12/2021", "03/11/2021", "02/23/2021", "05/09/2021", "04/29/2021", "05/01/2021")
    assert first.answer == "F" and first.choices[5] == "05/01/2021"

    raw = _raw("kojima-takeshi188/zero_shot_cot/dataset/Bigbench_Date/task.json", mirror)["examples"]
    examples = tasks.load_examples("date_understanding")
    for example, item in zip(examples, raw, strict=True):
        correct = [text for text, score in item["target_scores"].items() if score == 1]
        assert example.choices[ord(example.answer) - ord("A")] == correct[0]
        assert sorted(example.choices) == sorted(item["target_scores"])
    # the order differs from upstream for most questions (so it really is shuffled)
    assert sum(list(e.choices) != list(item["target_scores"]) for e, item in zip(examples, raw)) > 300


def test_tracking_choices_keep_upstream_order_without_trailing_period(mirror):
    raw = _raw("kojima-takeshi188/zero_shot_cot/dataset/Bigbench_object_tracking/task.json", mirror)["examples"]
    for example, item in zip(tasks.load_examples("tracking_shuffled_objects"), raw, strict=True):
        assert list(example.choices) == [text[:-1] for text in item["target_scores"]]
        assert example.choices[ord(example.answer) - ord("A")] + "." in [t for t, s in item["target_scores"].items() if s]


@pytest.mark.parametrize("task", ["single_eq", "addsub", "multiarith", "gsm8k", "svamp"])
def test_number_answers_are_canonical_without_commas_or_trailing_zero(task):
    for example in tasks.load_examples(task):
        assert example.answer == tasks.canonical_number(example.answer)
        assert "," not in example.answer and not example.answer.endswith(".0")


def test_gsm8k_answers_with_thousands_separators_lose_the_commas():
    examples = tasks.load_examples("gsm8k")
    assert (examples[345].answer, examples[367].answer, examples[462].answer) == ("1080", "850000", "2250")


# --- validation split ---------------------------------------------------------------------------


def test_validation_is_disjoint_from_train_and_test_and_covers_the_official_train_side():
    split = tasks.load_split("multiarith")
    train, validation, test = ({e.index for e in part} for part in (split.train, split.validation, split.test))
    assert not train & validation and not validation & test and not train & test
    assert train | validation == set(split.official_train_indices)
    assert len(validation) == round(0.1 * len(split.official_train_indices)) == 42
    assert [e.index for e in split.validation] == split.validation_indices == sorted(split.validation_indices)


def test_validation_is_seeded_and_stable_across_loads():
    a = tasks.load_split("coin_flip", validation_seed=3)
    b = tasks.load_split("coin_flip", validation_seed=3)
    c = tasks.load_split("coin_flip", validation_seed=4)
    assert a.validation_indices == b.validation_indices and a.train == b.train
    assert a.validation_indices != c.validation_indices
    assert a.test == c.test  # the test side never depends on the validation settings


def test_validation_count_and_fraction_zero():
    assert len(tasks.load_split("addsub", validation_count=5).validation) == 5
    none = tasks.load_split("addsub", validation_fraction=0.0)
    assert none.validation == [] and [e.index for e in none.train] == none.official_train_indices


def test_split_validation_keeps_order_and_takes_at_least_one():
    items = list(range(7))
    rest, held = tasks.split_validation(items, fraction=0.01, seed=0)
    assert len(held) == 1 and sorted(rest + held) == items and rest == sorted(rest)
    assert tasks.split_validation(items, fraction=0.3, seed=1) == tasks.split_validation(items, fraction=0.3, seed=1)


@pytest.mark.parametrize("kwargs, message", [
    ({"fraction": 1.0}, "fraction must be in"),
    ({"fraction": -0.1}, "fraction must be in"),
    ({"count": 10}, "count must be an integer in 0..9"),
    ({"seed": -1}, "seed must be a non-negative integer"),
])
def test_split_validation_rejects_bad_parameters(kwargs, message):
    with pytest.raises(ValueError, match=message):
        tasks.split_validation(list(range(10)), **kwargs)


def test_split_files_are_fetched_pinned_by_sha256():
    file = tasks.get_task("gsm8k").split_file("default")
    assert file.repo == "itsnamgyu/reasoning-teacher" and file.sha256
    assert fetch(file).name == "gsm8k__default.json"


# The official template splits group questions by a "template" derived from the question text and
# assign whole groups (RandomState(0), 70%) to train. Regenerating them from fcot's questions checks
# the MultiArith and date_understanding question text character for character.
_TEMPLATE_NAMES = (
    "adam amy emily robin zoe katie maria vanessa april billy oliver tom cody dave edward jerry victor kaleb sam "
    "victor billy oliver biana carol chloe cody dave debby edward emily faye george gwen haley isabel jerry john luke "
    "maria megan mike nancy ned oliver paige rachel paul robin roger sam sarah tiffany tom victor wendy zoe bianca "
    "olivia will janet frank henry lana"
).split()


def _multiarith_template(question: str) -> str:
    text = f" {question} "
    for number in range(101, 0, -1):
        text = text.replace(str(number), "")
    for name in _TEMPLATE_NAMES:
        for form in (name, name.title()):
            text = text.replace(f" {form} ", " NAME ").replace(f" {form}'s ", " NAME's ")
    return text


def _date_template(question: str) -> str:
    text = f" {question} "
    for number in range(101, 0, -1):
        text = text.replace(str(number), "#" * len(str(number)))
    return text[: text.find("What is the date")]


@pytest.mark.parametrize("task, template, n_groups", [
    ("multiarith", _multiarith_template, 120), ("date_understanding", _date_template, 41)])
def test_template_split_regenerates_from_fcot_question_text(task, template, n_groups, mirror):
    import numpy as np

    groups: dict[str, list[int]] = {}
    for example in tasks.load_examples(task):
        groups.setdefault(template(example.question), []).append(example.index)
    assert len(groups) == n_groups
    order = np.random.RandomState(0).permutation(len(groups))
    members = list(groups.values())
    n_train = round(len(groups) * 0.7)
    train = sorted(i for g in order[:n_train] for i in members[g])
    test = sorted(i for g in order[n_train:] for i in members[g])
    assert (train, test) == _official_indices(task, mirror, "template")
