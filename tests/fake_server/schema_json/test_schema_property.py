"""Property: for random schemas of the supported subset, every generated value fits."""

from __future__ import annotations

import random
from typing import Any

from hypothesis import event, given, settings
from hypothesis import strategies as st

from fake_server._schema_json import UnsupportedSchema, check, generate

Schema = Any
NAMES = st.sampled_from(["a", "b", "id", "name", "value", "x-y", "a/b", "~"])
PATTERNS = [r"^[a-z]+$", r"^\d{3}-\d{4}$", r"\d{2}", r"^(red|green)-[A-F0-9]{2}$", r"^[^,]*$"]
FORMATS = ["date", "date-time", "time", "email", "uuid", "uri", "ipv4", "ipv6", "hostname"]
SCALARS = st.none() | st.booleans() | st.integers(-5, 5) | st.sampled_from(["x", "y", 1.5])
TREE = {
    "type": "object",
    "properties": {
        "v": {"type": "integer"},
        "kids": {"type": "array", "items": {"$ref": "#/$defs/Tree"}, "maxItems": 2},
    },
    "required": ["v"],
}


def ordered(lo: float | None, hi: float | None, gap: float) -> tuple[float | None, float | None]:
    if lo is not None and hi is not None and hi < lo + gap:
        hi = lo + gap
    return lo, hi


@st.composite
def integers(draw: st.DrawFn) -> Schema:
    step = draw(st.none() | st.integers(1, 7))
    lo, hi = draw(st.none() | st.integers(-1000, 1000)), draw(st.none() | st.integers(-1000, 1000))
    lo, hi = ordered(lo, hi, 2 * (step or 1) + 2)
    schema: dict[str, Any] = {"type": "integer"}
    if lo is not None:
        schema["exclusiveMinimum" if draw(st.booleans()) else "minimum"] = lo
    if hi is not None:
        schema["exclusiveMaximum" if draw(st.booleans()) else "maximum"] = hi
    if step:
        schema["multipleOf"] = step
    return schema


@st.composite
def numbers(draw: st.DrawFn) -> Schema:
    bound = st.none() | st.floats(-1e6, 1e6, allow_nan=False)
    step = draw(st.none() | st.sampled_from([0.5, 0.25, 0.1, 2.5, 3]))
    lo, hi = ordered(draw(bound), draw(bound), 10 * (step or 0.01))
    schema: dict[str, Any] = {"type": "number"}
    if lo is not None:
        schema["exclusiveMinimum" if draw(st.booleans()) else "minimum"] = lo
    if hi is not None:
        schema["exclusiveMaximum" if draw(st.booleans()) else "maximum"] = hi
    if step:
        schema["multipleOf"] = step
    return schema


@st.composite
def strings(draw: st.DrawFn) -> Schema:
    kind = draw(st.sampled_from(["plain", "pattern", "format"]))
    if kind == "pattern":
        return {"type": "string", "pattern": draw(st.sampled_from(PATTERNS))}
    if kind == "format":
        return {"type": "string", "format": draw(st.sampled_from(FORMATS))}
    lo, hi = ordered(draw(st.none() | st.integers(0, 30)), draw(st.none() | st.integers(0, 30)), 0)
    schema: dict[str, Any] = {"type": "string"}
    if lo is not None:
        schema["minLength"] = lo
    if hi is not None:
        schema["maxLength"] = hi
    return schema


SCALAR_SCHEMAS = st.one_of(
    integers(),
    numbers(),
    strings(),
    st.just({"type": "boolean"}),
    st.just({"type": "null"}),
    st.lists(SCALARS, min_size=1, max_size=4).map(lambda v: {"enum": v}),
    SCALARS.map(lambda v: {"const": v}),
    st.lists(st.sampled_from(["string", "integer", "boolean", "null"]), min_size=1, max_size=3).map(
        lambda t: {"type": sorted(set(t))}
    ),
    st.sampled_from([{"$ref": "#/$defs/Tree"}, {"$ref": "#/$defs/Leaf"}, {}, True]),
)


@st.composite
def objects(draw: st.DrawFn, children: st.SearchStrategy[Schema]) -> Schema:
    props = draw(st.dictionaries(NAMES, children, max_size=4))
    required = [n for n in props if draw(st.booleans())]
    schema: dict[str, Any] = {"type": "object", "properties": props, "required": required}
    schema["additionalProperties"] = draw(st.sampled_from([True, False]) | children)
    if draw(st.booleans()):
        schema["minProperties"] = low = draw(st.integers(0, len(props)))
        schema["maxProperties"] = draw(st.integers(max(len(required), low, 1), 6))
    return schema


@st.composite
def arrays(draw: st.DrawFn, children: st.SearchStrategy[Schema]) -> Schema:
    lo, hi = ordered(draw(st.none() | st.integers(0, 3)), draw(st.none() | st.integers(0, 5)), 0)
    schema: dict[str, Any] = {"type": "array"}
    if draw(st.booleans()):
        schema["prefixItems"] = draw(st.lists(children, max_size=3))
        schema["items"] = draw(children)
    elif draw(st.booleans()):
        schema["items"] = {"type": draw(st.sampled_from(["string", "integer"]))}
        schema["uniqueItems"] = True
    else:
        schema["items"] = draw(children)
    if lo is not None:
        schema["minItems"] = lo
    if hi is not None:
        schema["maxItems"] = hi
    return schema


@st.composite
def one_of_distinct_types(draw: st.DrawFn, children: st.SearchStrategy[Schema]) -> Schema:
    """oneOf branches of different types match exactly one branch each."""
    pool = {
        "integer": integers(),
        "string": strings(),
        "boolean": st.just({"type": "boolean"}),
        "null": st.just({"type": "null"}),
        "object": objects(children),
        "array": arrays(children),
    }
    kinds = draw(st.lists(st.sampled_from(sorted(pool)), min_size=1, max_size=3, unique=True))
    return {"oneOf": [draw(pool[k]) for k in kinds]}


@st.composite
def all_of_objects(draw: st.DrawFn, children: st.SearchStrategy[Schema]) -> Schema:
    parts = []
    for prefix in ("p_", "q_"):
        props = draw(st.dictionaries(NAMES.map(lambda n, p=prefix: p + n), children, max_size=3))
        parts.append({"type": "object", "properties": props, "required": sorted(props)[:1]})
    return {"allOf": parts}


def extend(children: st.SearchStrategy[Schema]) -> st.SearchStrategy[Schema]:
    return st.one_of(
        objects(children),
        arrays(children),
        st.lists(children, min_size=1, max_size=3).map(lambda b: {"anyOf": b}),
        one_of_distinct_types(children),
        all_of_objects(children),
    )


SCHEMAS = st.recursive(SCALAR_SCHEMAS, extend, max_leaves=8)


@st.composite
def documents(draw: st.DrawFn) -> Schema:
    schema = draw(SCHEMAS)
    defs = {
        "Tree": TREE,
        "Leaf": draw(SCALAR_SCHEMAS.filter(lambda s: s is True or "$ref" not in s)),
    }
    return {"$defs": defs, "allOf": [schema]}


@settings(max_examples=300, deadline=None)
@given(schema=documents(), seed=st.integers(0, 2**32))
def test_schemas_of_the_subset_always_generate_a_fitting_value(
    schema: Schema, seed: int, assert_fits: Any
) -> None:
    check(schema)
    for salt in range(3):
        assert_fits(schema, generate(schema, random.Random(seed + salt)))


@settings(max_examples=300, deadline=None)
@given(left=SCHEMAS, right=SCHEMAS, seed=st.integers(0, 2**32))
def test_merged_schemas_fit_or_are_refused(
    left: Schema, right: Schema, seed: int, assert_fits: Any
) -> None:
    """allOf of two arbitrary schemas is often unsatisfiable: refused, never answered wrong."""
    schema = {"$defs": {"Tree": TREE, "Leaf": {"type": "string"}}, "allOf": [left, right]}
    try:
        value = generate(schema, random.Random(seed))
    except UnsupportedSchema as exc:
        assert not exc.unsupported
        event(f"refused: {exc.keyword}")
        return
    event("generated")
    assert_fits(schema, value)
