"""The papers of a synthetic day: arXiv-like ids rising with submission time, categories
drawn by weight with cross-lists, and titles, abstracts and authors from templates (the
model is told in `synthetic.py`)."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

from hotpapers.sources.arxiv.schedule import submission_window

__all__ = ["GENERATOR", "ML", "PRIMARY", "iso", "make_papers"]

# The generator's name as its records carry it: it stayed when the module moved to jobs/, so
# the bundled day, and everything rendered from it, kept its bytes.
GENERATOR = "hotpapers.synthetic"

ML = ("cs.LG", "cs.CV", "cs.CL", "cs.AI", "stat.ML", "cs.RO")
PRIMARY = {  # category: (weight, topic factor, related categories for cross-lists)
    "cs.LG": (18, 1.6, ("stat.ML", "cs.AI", "cs.CV", "cs.CL")),
    "cs.CV": (14, 1.4, ("cs.LG", "cs.AI", "eess.IV")), "cs.CL": (12, 1.6, ("cs.LG", "cs.AI")),
    "cs.AI": (6, 1.3, ("cs.LG", "cs.CL", "cs.MA")), "cs.RO": (4, 1.0, ("cs.LG", "cs.SY")),
    "stat.ML": (3, 1.0, ("cs.LG", "math.ST")), "cs.CR": (3, 0.8, ("cs.LG", "cs.SE")),
    "cs.SE": (2, 0.8, ("cs.LG", "cs.PL")), "quant-ph": (5, 0.6, ("cond-mat.str-el", "cs.ET")),
    "astro-ph.GA": (3, 0.5, ("astro-ph.CO",)), "astro-ph.CO": (2, 0.5, ("gr-qc", "hep-ph")),
    "cond-mat.mes-hall": (2, 0.4, ("cond-mat.str-el",)), "hep-th": (3, 0.4, ("gr-qc",)),
    "hep-ph": (3, 0.4, ("hep-ex", "astro-ph.CO")), "gr-qc": (2, 0.4, ("astro-ph.HE",)),
    "math.CO": (2, 0.3, ("cs.DM",)), "math.PR": (2, 0.3, ("math.ST",)),
    "math.OC": (2, 0.3, ("cs.LG", "eess.SY")), "q-bio.NC": (2, 0.6, ("cs.NE",)),
    "eess.SP": (2, 0.3, ("cs.IT",)), "econ.EM": (1, 0.3, ("stat.ME",)),
}
_WORDS = {  # field: (adjectives, nouns, settings)
    "ml": (("Scalable", "Sparse", "Robust", "Efficient", "Self-Supervised", "Causal",
            "Contrastive", "Hierarchical", "Adaptive", "Multimodal", "Federated", "Small"),
           ("Transformers", "Representations", "Agents", "Retrieval", "Reasoning",
            "World Models", "Mixtures of Experts", "Graph Networks", "Tokenizers",
            "Reward Models", "Diffusion Models", "State-Space Models"),
           ("Long-Context Language Modeling", "Video Generation", "Code Synthesis",
            "Protein Design", "Robot Manipulation", "Medical Imaging", "Theorem Proving",
            "Speech Recognition", "Weather Forecasting", "Tabular Data", "Web Navigation")),
    "physics": (("Anomalous", "Topological", "Nonequilibrium", "Quantum", "Holographic",
                 "Primordial", "Strongly Correlated", "Chiral"),
                ("Transport", "Phases", "Entanglement", "Black Holes", "Dark Matter Halos",
                 "Gravitational Waves", "Spin Liquids", "Error Correction"),
                ("Twisted Bilayers", "the Early Universe", "Kagome Metals", "de Sitter Space",
                 "Dwarf Galaxies", "Superconducting Qubits", "Neutron Stars")),
    "math": (("Sharp", "Optimal", "Random", "Asymptotic", "Effective", "Uniform"),
             ("Bounds", "Thresholds", "Mixing Times", "Inequalities", "Colourings",
              "Estimators"),
             ("Sparse Graphs", "Convex Bodies", "Random Matrices", "Markov Chains",
              "Hypergraphs", "Panel Data")),
}
_TITLES = ("{A} {N} for {T}", "{N} in {T}", "On {A} {N} in {T}", "{K}: {A} {N} for {T}",
           "Towards {A} {N}", "When Do {A} {N} Help {T}?", "{A} {N} Revisited")
_FIRST = ("Ada", "Bela", "Chen", "Dara", "Emil", "Farah", "Goran", "Hana", "Ines", "Jun",
          "Kofi", "Lena", "Mateo", "Nia", "Omar", "Priya", "Quinn", "Rosa", "Sven", "Tariq",
          "Uma", "Viktor", "Wen", "Yara", "Zoltan")
_LAST = ("Abara", "Brandt", "Castell", "Dumont", "Eriksen", "Fonseca", "Gruber", "Haddad",
         "Iwasaki", "Jovanovic", "Kowalczyk", "Lindqvist", "Moreau", "Nakamura", "Okafor",
         "Petrov", "Quispe", "Rahman", "Santoro", "Takahashi", "Uribe", "Varga", "Whitlock")
def iso(moment: datetime) -> str:
    return moment.replace(microsecond=0).isoformat()


def _field(category: str) -> str:
    if category in ML or category.startswith(("cs.", "q-bio", "eess")):
        return "ml"
    return "math" if category.startswith(("math", "econ", "stat")) else "physics"


def _paper(rng: random.Random, paper_id: str, day: date, submitted: datetime) -> dict:
    primary = rng.choices(list(PRIMARY), [w for w, _, _ in PRIMARY.values()])[0]
    related = PRIMARY[primary][2]
    cross = rng.sample(related, min(len(related), rng.choice((1, 1, 2)))) \
        if rng.random() < 0.5 else []
    adjs, nouns, settings = _WORDS[_field(primary)]
    words = {"A": rng.choice(adjs), "N": rng.choice(nouns), "T": rng.choice(settings),
             "K": "".join(rng.choice("ABCDEFGHKLMPRSTVXZ") for _ in range(rng.randint(3, 5)))}
    title = rng.choice(_TITLES).format(**words)
    abstract = " ".join([
        f"We study {words['N'].lower()} in the setting of {rng.choice(settings).lower()}.",
        f"We propose {words['K']}, a {words['A'].lower()} approach that "
        f"{rng.choice(('scales', 'simplifies', 'unifies', 'sharpens'))} earlier methods.",
        f"On {rng.randint(2, 9)} {rng.choice(('benchmarks', 'data sets', 'regimes'))} it "
        f"improves on the best known results by {rng.randint(2, 40)} %.",
        f"This abstract is synthetic, generated by {GENERATOR}."])
    authors = [f"{rng.choice(_FIRST)} {rng.choice(_LAST)}"
               for _ in range(min(12, 1 + int(rng.expovariate(1 / 3.5))))]
    return {"type": "paper", "id": paper_id, "title": f"[synthetic] {title}",
            "authors": authors, "categories": [primary, *cross], "abstract": abstract,
            "abs_url": f"https://arxiv.org/abs/{paper_id}",
            "pdf_url": f"https://arxiv.org/pdf/{paper_id}", "latest_version": 1,
            "comments": "synthetic record", "submitted_at": iso(submitted),
            "updated_at": iso(submitted), "announced_on": day.isoformat(),
            "versions": [{"number": 1, "submitted_at": iso(submitted)}]}


def make_papers(rng: random.Random, day: date, count: int, announced: datetime) -> list[dict]:
    """The day's new submissions, made in its submission window, ids rising with time."""
    start, end = submission_window(day) or (announced - timedelta(hours=30),
                                            announced - timedelta(hours=6))
    times = sorted(start + (end - start) * rng.random() for _ in range(count))
    number = max(1, (start.day - 1) * 800) + rng.randint(1, 400)
    found = []
    for submitted in times:
        found.append(_paper(rng, f"{start:%y%m}.{number:05d}", day, submitted))
        number += rng.randint(1, 12)
    return found
