"""Spec of fcot.links: the executed notebooks link the executed names, and every relative link resolves (issue 29)."""

from __future__ import annotations

import json
from pathlib import Path

from fcot import links

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
HERE = ("**You are here:** [← 11_curate_samples](11_curate_samples.ipynb) · **20_finetune_student** · "
        "[21_evaluate_student →](21_evaluate_student.ipynb) (drawn in [00_tour](00_tour.ipynb#The-pipeline); "
        "terms: [glossary](00_tour.ipynb#Glossary))")


def _notebook(*cells) -> dict:
    return {"cells": list(cells), "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


def _markdown(source) -> dict:
    return {"cell_type": "markdown", "metadata": {}, "source": source}


def _code(source, outputs=()) -> dict:
    return {"cell_type": "code", "metadata": {}, "source": source, "outputs": list(outputs), "execution_count": None}


NAMES = {"11_curate_samples": "11_curate_ft_cot", "21_evaluate_student": "21_evaluate_ft_cot"}


def test_rewrite_links_points_source_names_at_executed_names_and_keeps_anchors():
    notebook = _notebook(_markdown(HERE))
    text = links.rewrite_links(notebook, NAMES)["cells"][0]["source"]
    assert "[← 11_curate_samples](11_curate_ft_cot.ipynb)" in text  # the link text stays the source's name
    assert "(21_evaluate_ft_cot.ipynb)" in text
    assert "(00_tour.ipynb#The-pipeline)" in text and "(00_tour.ipynb#Glossary)" in text  # not in names: unchanged
    assert notebook["cells"][0]["source"] == HERE  # the input is not modified


def test_rewrite_links_keeps_an_anchor_on_a_renamed_link_and_the_source_form_of_a_cell():
    lines = ["See [the curation](11_curate_samples.ipynb#What-we-saw)\n", "and [tests](../tests/test_links.py).\n"]
    cell = links.rewrite_links(_notebook(_markdown(lines)), NAMES)["cells"][0]
    assert cell["source"] == ["See [the curation](11_curate_ft_cot.ipynb#What-we-saw)\n",
                              "and [tests](../tests/test_links.py).\n"]


def test_rewrite_links_leaves_code_cells_urls_prefixes_and_longer_names_alone():
    code = _code('stages.find("curation", "11_curate_samples.ipynb")  # [x](11_curate_samples.ipynb)')
    markdown = _markdown("[web](https://example.org/11_curate_samples.ipynb) [up](../notebooks/11_curate_samples.ipynb) "
                         "[other](x11_curate_samples.ipynb) [longer](11_curate_samples_extra.ipynb)")
    result = links.rewrite_links(_notebook(code, markdown), NAMES)
    assert result["cells"][0] == code and result["cells"][1] == markdown


def test_executed_names_take_the_first_output_or_the_one_of_the_same_chain():
    steps = [("00_tour", None), ("11_curate_samples", "11_curate_ft_cot"), ("11_curate_samples", "11_curate_vanilla"),
             ("20_finetune_student", "20_train_ft_cot"), ("21_evaluate_student", "21_evaluate_ft_cot"),
             ("20_finetune_student", "20_train_vanilla"), ("21_evaluate_student", "21_evaluate_vanilla"),
             ("29_choose_recipe", None), ("30_compare_methods", None),
             ("30_compare_methods", "30_compare_methods-coin_flip"), ("31_ablate_degree", "31_ablate_degree-200_questions")]
    first = links.executed_names(steps)
    assert first == {"00_tour": "00_tour", "11_curate_samples": "11_curate_ft_cot", "20_finetune_student": "20_train_ft_cot",
                     "21_evaluate_student": "21_evaluate_ft_cot", "29_choose_recipe": "29_choose_recipe",
                     "30_compare_methods": "30_compare_methods", "31_ablate_degree": "31_ablate_degree-200_questions"}
    vanilla = links.executed_names(steps, output="20_train_vanilla")
    assert vanilla["11_curate_samples"] == "11_curate_vanilla" and vanilla["21_evaluate_student"] == "21_evaluate_vanilla"
    assert links.executed_names(steps, output="21_evaluate_ft_cot")["20_finetune_student"] == "20_train_ft_cot"


def test_broken_links_resolve_markdown_notebook_cells_and_markdown_outputs(tmp_path):
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "figures").mkdir()
    (tmp_path / "figures" / "a.png").write_bytes(b"")
    (tmp_path / "notebooks" / "11_curate_ft_cot.ipynb").write_text(json.dumps(_notebook(
        _markdown(HERE),
        _code("x", [{"output_type": "display_data", "metadata": {},
                     "data": {"text/markdown": "see [90](90_figures_and_tables.ipynb)", "text/plain": "x"}}]))))
    (tmp_path / "README.md").write_text(
        "![figure](figures/a.png) [ok](notebooks/11_curate_ft_cot.ipynb#x) [web](https://x.org/y.md) [top](#top)\n"
        "[gone](figures/b.png) [mail](mailto:a@b.c) `[code](not/a/link.md)`\n```\n[fenced](nor/this.md)\n```\n"
        "[spaced](figures/a%20b.png) [root](/figures/a.png)\n")
    assert links.broken_links(tmp_path) == [
        "README.md: figures/a b.png",
        "README.md: figures/b.png",
        "notebooks/11_curate_ft_cot.ipynb: 00_tour.ipynb",
        "notebooks/11_curate_ft_cot.ipynb: 11_curate_samples.ipynb",
        "notebooks/11_curate_ft_cot.ipynb: 21_evaluate_student.ipynb",
        "notebooks/11_curate_ft_cot.ipynb: 90_figures_and_tables.ipynb",
    ]


def test_rewritten_links_resolve_among_the_executed_names(tmp_path):
    for name in ("00_tour", "11_curate_ft_cot", "21_evaluate_ft_cot"):
        (tmp_path / f"{name}.ipynb").write_text(json.dumps(_notebook()))
    (tmp_path / "20_train_ft_cot.ipynb").write_text(json.dumps(links.rewrite_links(_notebook(_markdown(HERE)), NAMES)))
    assert links.broken_links(tmp_path) == []


def test_the_source_notebooks_and_their_markdown_have_no_broken_link():
    assert links.broken_links(NOTEBOOKS) == []


def test_notebook_29_is_in_the_chain():
    def here(name: str) -> str:
        cell = json.loads((NOTEBOOKS / f"{name}.ipynb").read_text(encoding="utf-8"))["cells"][1]
        return links._text(cell["source"])

    assert "[29_choose_recipe →](29_choose_recipe.ipynb)" in here("21_evaluate_student")
    assert "[← 29_choose_recipe](29_choose_recipe.ipynb)" in here("30_compare_methods")
    assert "[← 21_evaluate_student](21_evaluate_student.ipynb)" in here("29_choose_recipe")
    assert "[30_compare_methods →](30_compare_methods.ipynb)" in here("29_choose_recipe")


GLOSSARY_TERMS = {"base point": "base-point", "sweep": "sweep", "point": "point", "recipe": "recipe", "seed": "seed",
                  "interval (t / Wilson)": "interval", "clear": "clear", "within noise": "within-noise",
                  "Zero-shot-CoT": "zero-shot-cot", "multitask": "multitask", "keep_all_matched": "keep_all_matched"}


def _tour_anchors() -> set[str]:
    import re

    cells = json.loads((NOTEBOOKS / "00_tour.ipynb").read_text(encoding="utf-8"))["cells"]
    text = "\n".join(links._text(c["source"]) for c in cells if c["cell_type"] == "markdown")
    headings = {h.strip().replace(" ", "-") for h in re.findall(r"^#+ (.+)$", text, re.M)}  # Jupyter's heading ids
    return headings | set(re.findall(r'<a id="([^"]+)"></a>', text))


def test_the_glossary_defines_the_ablation_words_each_with_an_anchor():
    cells = json.loads((NOTEBOOKS / "00_tour.ipynb").read_text(encoding="utf-8"))["cells"]
    glossary = next(links._text(c["source"]) for c in cells if links._text(c["source"]).startswith("## Glossary"))
    for term, anchor in GLOSSARY_TERMS.items():
        assert f'<a id="{anchor}"></a>**{term}**' in glossary, term
    for line in glossary.splitlines():
        if line.startswith("- "):
            assert line.startswith("- <a id="), f"a glossary term without an anchor: {line[:60]}"


def test_every_link_into_the_tour_names_an_anchor_it_has():
    import re

    anchors = _tour_anchors()
    for path in sorted(NOTEBOOKS.glob("*.ipynb")) + sorted(NOTEBOOKS.glob("*.md")):
        text = path.read_text(encoding="utf-8")
        for anchor in re.findall(r"00_tour\.ipynb#([\w.-]+)", text):
            assert anchor in anchors, f"{path.name}: 00_tour.ipynb#{anchor}"


def test_no_relative_link_a_reader_follows_is_broken():
    """The committed results (every profile's executed notebooks and READMEs), the README and notebooks/*.md."""
    from fcot import paths

    root = paths.REPO_ROOT
    broken = [f"results/{b}" for b in links.broken_links(root / "results")]
    broken += [b for b in links.broken_links(root) if b.split(":")[0] in ("README.md",)]
    broken += [f"notebooks/{b}" for b in links.broken_links(root / "notebooks") if b.split(":")[0].endswith(".md")]
    assert broken == [], f"{len(broken)} broken links, e.g. {broken[:8]}"
