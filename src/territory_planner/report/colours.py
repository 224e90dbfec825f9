"""Territory colours: neighbouring territories never share a colour family.

A map is read by telling touching territories apart, so colours follow the territory
adjacency graph (:func:`territory_planner.geo.territory_adjacency`), not the rep order.
The graph is coloured greedily (networkx, largest degree first, ties in rep_id order, so the
same plan always gets the same colours); each colour class owns whole colour *families*
(blues, oranges, greens ...), and territories of one class take the shades of its families
in turn. Two touching territories are in different classes, hence in different families.

Families are well separated hues (ColorBrewer / Tableau); shades within a family stay dark
enough to read as a translucent fill. A territory map of real data needs four to six
classes; only past :data:`FAMILIES`'s nine classes would a family be shared, and then the
shade still differs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import networkx as nx

__all__ = ["FAMILIES", "FAMILY_OF", "PALETTE", "UNASSIGNED_COLOUR", "territory_colours"]

FAMILIES: dict[str, tuple[str, ...]] = {
    "blue": ("#1f77b4", "#08519c", "#4f9bd9", "#2b5c8a"),
    "orange": ("#ff7f0e", "#d95f02", "#ffa65c", "#b65c00"),
    "green": ("#2ca02c", "#006d2c", "#5bbf57", "#3f7f1f"),
    "red": ("#d62728", "#99000d", "#f0504f", "#b22222"),
    "purple": ("#7e4fb8", "#4a1486", "#9d7fd1", "#6a3d9a"),
    "yellow": ("#d4b000", "#a68a00", "#e6c72e", "#8c7a00"),
    "teal": ("#17becf", "#00727d", "#3fd0d4", "#008b8b"),
    "pink": ("#e0449a", "#ae017e", "#f06fb5", "#c51b7d"),
    "brown": ("#8c564b", "#5c3317", "#b07757", "#7a4a2a"),
}
FAMILY_OF: dict[str, str] = {c: name for name, shades in FAMILIES.items() for c in shades}
PALETTE: tuple[str, ...] = tuple(
    shades[i] for i in range(4) for shades in FAMILIES.values()
)  # every colour once, first shades first
UNASSIGNED_COLOUR = "#7f7f7f"


def territory_colours(
    rep_ids: Iterable[str], neighbours: Mapping[str, Iterable[str]] | None = None
) -> dict[str, str]:
    """A colour per rep such that reps whose territories touch get different families.

    ``neighbours`` is ``{rep_id: rep_ids it touches}`` (several plans' adjacencies may be
    merged, so one rep keeps one colour on every map of a comparison); reps absent from it
    touch nothing.
    """
    graph = nx.Graph()
    graph.add_nodes_from(sorted({str(r) for r in rep_ids}))
    for rep, others in (neighbours or {}).items():
        for other in others:
            if str(rep) in graph and str(other) in graph and str(rep) != str(other):
                graph.add_edge(str(rep), str(other))
    if graph.number_of_nodes() == 0:
        return {}
    classes = nx.greedy_color(graph, strategy="largest_first")
    n_classes = max(classes.values()) + 1
    names = list(FAMILIES)
    # class k owns families k, k + C, k + 2C ...: all families in use, none shared
    owned = {k: names[k::n_classes] or [names[k % len(names)]] for k in range(n_classes)}
    taken = {k: 0 for k in range(n_classes)}
    colours: dict[str, str] = {}
    for rep in sorted(graph.nodes):
        k = classes[rep]
        turn = taken[k]
        taken[k] += 1
        families = owned[k]
        shades = FAMILIES[families[turn % len(families)]]
        colours[rep] = shades[(turn // len(families)) % len(shades)]
    return colours
