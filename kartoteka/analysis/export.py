"""Network exports: GraphML, GEXF with time, a STIX 2.1 bundle, FollowTheMoney.

Each takes the plain dict `Archive.network` returns (nodes with centrality
and community, relations with evidence), so every format carries the same
content the viewer may see and nothing else.
"""

from __future__ import annotations

import json
import uuid
from typing import Any
from xml.etree import ElementTree as ET

FORMATS = ("json", "graphml", "gexf", "stix", "ftm")
_NS = uuid.UUID("8f0e4c1a-6b7d-4c8e-9a51-6b61f1e0c0de")  # Kartoteka's namespace for STIX ids


def _xml(root: ET.Element) -> bytes:
    ET.indent(root)
    body: bytes = ET.tostring(root, encoding="utf-8")
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + body


def graphml(net: dict[str, Any]) -> bytes:
    root = ET.Element("graphml", xmlns="http://graphml.graphdrawing.org/xmlns")
    keys = [
        ("name", "node", "string"), ("kind", "node", "string"), ("community", "node", "int"),
        ("degree", "node", "double"), ("betweenness", "node", "double"), ("pagerank", "node", "double"),
        ("type", "edge", "string"), ("start", "edge", "string"), ("end", "edge", "string"),
        ("confidence", "edge", "double"), ("document_id", "edge", "string"), ("snippet", "edge", "string"),
    ]  # fmt: skip
    for name, scope, kind in keys:
        ET.SubElement(root, "key", {"id": f"{scope[0]}_{name}", "for": scope, "attr.name": name, "attr.type": kind})
    g = ET.SubElement(root, "graph", id="kartoteka", edgedefault="directed")
    for n in net["nodes"]:
        el = ET.SubElement(g, "node", id=n["id"])
        for k in ("name", "kind", "community", "degree", "betweenness", "pagerank"):
            ET.SubElement(el, "data", key=f"n_{k}").text = str(n[k])
    for i, r in enumerate(net["relations"]):
        el = ET.SubElement(g, "edge", id=f"r{i}", source=r["subject"], target=r["object"])
        values = {**r, "document_id": r["evidence"]["document_id"], "snippet": r["evidence"]["snippet"]}
        for k in ("type", "start", "end", "confidence", "document_id", "snippet"):
            if values.get(k) is not None:
                ET.SubElement(el, "data", key=f"e_{k}").text = str(values[k])
    return _xml(root)


def _gexf_date(value: str, end: bool) -> str:
    """GEXF dates are days; a year or month covers its whole span."""
    if len(value) == 4:
        return f"{value}-12-31" if end else f"{value}-01-01"
    if len(value) == 7:
        return f"{value}-28" if end else f"{value}-01"
    return value


def gexf(net: dict[str, Any]) -> bytes:
    root = ET.Element("gexf", xmlns="http://gexf.net/1.3", version="1.3")
    g = ET.SubElement(root, "graph", mode="dynamic", defaultedgetype="directed", timeformat="date")
    attrs = ET.SubElement(g, "attributes", {"class": "node"})
    for i, (name, kind) in enumerate([("kind", "string"), ("community", "integer"), ("pagerank", "double")]):
        ET.SubElement(attrs, "attribute", id=str(i), title=name, type=kind)
    eattrs = ET.SubElement(g, "attributes", {"class": "edge"})
    ET.SubElement(eattrs, "attribute", id="0", title="type", type="string")
    ET.SubElement(eattrs, "attribute", id="1", title="document_id", type="string")
    nodes = ET.SubElement(g, "nodes")
    for n in net["nodes"]:
        el = ET.SubElement(nodes, "node", id=n["id"], label=n["name"])
        vals = ET.SubElement(el, "attvalues")
        for i, k in enumerate(("kind", "community", "pagerank")):
            ET.SubElement(vals, "attvalue", {"for": str(i), "value": str(n[k])})
    edges = ET.SubElement(g, "edges")
    for i, r in enumerate(net["relations"]):
        attrs_e = {"id": f"r{i}", "source": r["subject"], "target": r["object"], "label": r["type"]}
        if r.get("start"):
            attrs_e["start"] = _gexf_date(r["start"], end=False)
            attrs_e["end"] = _gexf_date(r.get("end") or r["start"], end=True)
        el = ET.SubElement(edges, "edge", attrs_e)
        vals = ET.SubElement(el, "attvalues")
        ET.SubElement(vals, "attvalue", {"for": "0", "value": r["type"]})
        ET.SubElement(vals, "attvalue", {"for": "1", "value": r["evidence"]["document_id"]})
    return _xml(root)


def _stix_id(kind: str, key: str) -> str:
    return f"{kind}--{uuid.uuid5(_NS, key)}"


def _confidence(relation: dict[str, Any]) -> int:
    """STIX confidence: the Admiralty mapping when the evidence is graded, else the extractor's."""
    from kartoteka.analysis.assessment import stix_confidence

    cred = relation.get("credibility")
    mapped = stix_confidence(cred) if cred else None
    return mapped if mapped is not None else round(100 * relation["confidence"])


def stix(net: dict[str, Any], created: str = "2026-01-01T00:00:00.000Z") -> bytes:
    """A STIX 2.1 bundle: identities and locations, relationships with their confidence (0–100)."""
    objects: list[dict[str, Any]] = []
    ids: dict[str, str] = {}
    for n in net["nodes"]:
        if n["kind"] == "PLACE":
            sid = _stix_id("location", n["id"])
            objects.append({"type": "location", "spec_version": "2.1", "id": sid, "created": created,
                            "modified": created, "name": n["name"]})  # fmt: skip
        else:
            sid = _stix_id("identity", n["id"])
            objects.append({"type": "identity", "spec_version": "2.1", "id": sid, "created": created,
                            "modified": created, "name": n["name"],
                            "identity_class": "individual" if n["kind"] == "PERSON" else "organization"})  # fmt: skip
        ids[n["id"]] = sid
    for i, r in enumerate(net["relations"]):
        rel: dict[str, Any] = {
            "type": "relationship",
            "spec_version": "2.1",
            "id": _stix_id(
                "relationship", f"{r['subject']}|{r['type']}|{r['object']}|{i}|{r['evidence']['document_id']}"
            ),
            "created": created,
            "modified": created,
            "relationship_type": r["type"].replace("_", "-"),
            "source_ref": ids[r["subject"]],
            "target_ref": ids[r["object"]],
            "confidence": _confidence(r),
            "description": r["evidence"]["snippet"],
            "external_references": [{"source_name": "kartoteka", "external_id": r["evidence"]["document_id"]}],
        }
        if r.get("start"):
            rel["start_time"] = _gexf_date(r["start"], end=False) + "T00:00:00Z"
        objects.append(rel)
    bundle = {"type": "bundle", "id": _stix_id("bundle", net["entity_id"]), "objects": objects}
    return json.dumps(bundle, ensure_ascii=False, indent=1).encode()


_FTM_SCHEMA = {"PERSON": "Person", "ORG": "Organization", "PLACE": "Address"}


def ftm(net: dict[str, Any]) -> bytes:
    """FollowTheMoney entities as JSON lines: the nodes, then one interval entity per relation."""
    lines = []
    for n in net["nodes"]:
        schema = _FTM_SCHEMA.get(n["kind"], "LegalEntity")
        prop = "full" if schema == "Address" else "name"
        lines.append({"id": n["id"], "schema": schema, "properties": {prop: [n["name"]]}})
    for i, r in enumerate(net["relations"]):
        rid = f"rel-{uuid.uuid5(_NS, r['subject'] + r['type'] + r['object'] + str(i))}"
        props: dict[str, list[str]] = {
            "sourceUrl": [r["evidence"]["document_id"]],
            "summary": [r["evidence"]["snippet"]],
        }
        if r.get("start"):
            props["startDate"] = [r["start"]]
        if r.get("end"):
            props["endDate"] = [r["end"]]
        if r["type"] == "married_to":
            schema, props = (
                "Family",
                {**props, "person": [r["subject"]], "relative": [r["object"]], "relationship": ["spouse"]},
            )
        elif r["type"] in ("member_of", "served_in") and r["object"] in {
            n["id"] for n in net["nodes"] if n["kind"] == "ORG"
        }:
            schema, props = "Membership", {**props, "member": [r["subject"]], "organization": [r["object"]]}
        else:
            schema = "UnknownLink"
            props = {**props, "subject": [r["subject"]], "object": [r["object"]], "role": [r["type"].replace("_", " ")]}
        lines.append({"id": rid, "schema": schema, "properties": props})
    return "".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines).encode()


def render(net: dict[str, Any], fmt: str) -> bytes:
    if fmt == "json":
        return json.dumps(net, ensure_ascii=False, indent=1).encode()
    return {"graphml": graphml, "gexf": gexf, "stix": stix, "ftm": ftm}[fmt](net)
