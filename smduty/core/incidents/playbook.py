"""The escalation playbook: the "something went wrong" procedure kept as data, checked on load.

`data/playbooks/something-went-wrong.toml` holds the steps (see its header for the format). A
copy in the config dir replaces it; a broken copy is refused with the line and the reason. An
incident keeps a copy of the playbook it was opened with, so editing the file never changes the
steps of an incident already under way.
"""

from __future__ import annotations

import re
from pathlib import Path

import msgspec

from smduty.core.config import ConfigError, config_dir, read_toml, shipped_data_dir
from smduty.core.staff import ROLES

PLAYBOOK_FILE = "something-went-wrong.toml"
FACT_KINDS = ("text", "note", "yesno", "choice", "number")
ACTIONS = ("stop_posts",)
# Facts a matrix step works out itself from likelihood and consequence.
DERIVED = ("score", "rating")
_CLAUSE = re.compile(r"^\s*([a-z_][a-z0-9_]*)\s*(>=|<=|!=|=|>|<)\s*(\S+)\s*$")


class Clause(msgspec.Struct, frozen=True):
    key: str
    op: str
    value: str

    def test(self, facts: dict) -> bool | None:
        """True or False, or None while the fact is not yet recorded."""
        have = facts.get(self.key)
        if have is None or have == "":
            return None
        if self.op in ("=", "!="):
            same = str(have).lower() == self.value.lower()
            return same if self.op == "=" else not same
        try:
            left, right = float(have), float(self.value)
        except ValueError:
            return None
        return {">=": left >= right, "<=": left <= right, ">": left > right, "<": left < right}[
            self.op
        ]


class Condition(msgspec.Struct, frozen=True):
    """`a = x and b = y or c >= 3`: OR of ANDs, read left to right."""

    text: str
    groups: tuple[tuple[Clause, ...], ...]

    def test(self, facts: dict) -> bool | None:
        unknown = False
        for group in self.groups:
            results = [c.test(facts) for c in group]
            if all(r is True for r in results):
                return True
            if not any(r is False for r in results):
                unknown = True
        return None if unknown else False

    @property
    def keys(self) -> set[str]:
        return {c.key for g in self.groups for c in g}


def parse_condition(text: str) -> Condition:
    """Raises ValueError naming the part that cannot be read."""
    groups = []
    for part in re.split(r"\s+or\s+", text.strip()):
        clauses = []
        for piece in re.split(r"\s+and\s+", part):
            found = _CLAUSE.match(piece)
            if not found:
                raise ValueError(f"cannot read {piece.strip()!r} (write fact = value)")
            clauses.append(Clause(*found.groups()))
        groups.append(tuple(clauses))
    return Condition(text.strip(), tuple(groups))


class Fact(msgspec.Struct, frozen=True):
    key: str
    label: str
    kind: str = "text"
    optional: bool = False
    required_when: str = ""
    choices: tuple[tuple[str, str], ...] = ()
    min: int | None = None
    max: int | None = None
    help: str = ""

    def choice_label(self, value: str) -> str:
        return next((label for cid, label in self.choices if cid == value), value)


class Step(msgspec.Struct, frozen=True):
    id: str
    title: str
    role: str
    guidance: str
    policy: str
    facts: tuple[Fact, ...] = ()
    contacts: tuple[str, ...] = ()
    when: str = ""
    warning: str = ""
    notify: bool = False
    matrix: bool = False
    action: str = ""
    # A step that cannot be skipped: done, or ruled not applicable by a named decision-maker.
    mandatory: bool = False

    @property
    def condition(self) -> Condition | None:
        return parse_condition(self.when) if self.when else None

    def fact(self, key: str) -> Fact | None:
        return next((f for f in self.facts if f.key == key), None)


class Playbook(msgspec.Struct, frozen=True):
    id: str
    title: str
    policy: str
    steps: tuple[Step, ...]
    source: str = ""

    def step(self, step_id: str) -> Step:
        for step in self.steps:
            if step.id == step_id:
                return step
        raise KeyError(step_id)

    def as_json(self) -> dict:
        return msgspec.to_builtins(self)

    @classmethod
    def from_json(cls, data: dict) -> Playbook:
        steps = []
        for s in data["steps"]:
            facts = tuple(
                Fact(**{**f, "choices": tuple(tuple(c) for c in f.get("choices", ()))})
                for f in s.get("facts", ())
            )
            steps.append(Step(**{**s, "facts": facts, "contacts": tuple(s.get("contacts", ()))}))
        return cls(data["id"], data["title"], data["policy"], tuple(steps), data.get("source", ""))


def playbook_path() -> Path:
    user = config_dir() / PLAYBOOK_FILE
    return user if user.exists() else shipped_playbook_path()


def _line_of(lines: list[str], pattern: str, start: int = 0) -> int:
    for number in range(start, len(lines)):
        if re.match(pattern, lines[number].strip()):
            return number + 1
    return start + 1 if start else 1


def _line_within(lines: list[str], start: int, name: str) -> int:
    """The line of `name = ...` in the table that starts at line `start` (1-based), else start."""
    for number in range(start, len(lines)):
        text = lines[number].strip()
        if text.startswith("[["):
            break
        if re.match(rf"{name}\s*=", text):
            return number + 1
    return start


def load_playbook(path: Path | None = None) -> Playbook:
    """Read and check a playbook; ConfigError names the file, the line and the reason."""
    path = path or playbook_path()
    text, raw = read_toml(path)
    lines = text.splitlines()
    problems: list[str] = []
    steps: list[Step] = []
    known: set[str] = set()  # fact keys recorded by the steps read so far
    seen_steps: set[str] = set()
    for index, spec in enumerate(raw.get("steps") or [], start=1):
        if not isinstance(spec, dict):
            problems.append(f"[[steps]] number {index}: is not a table")
            continue
        sid = str(spec.get("id") or "")
        line = _line_of(lines, rf'id\s*=\s*"{re.escape(sid)}"') if sid else 1
        where = f"line {line}: step {sid or index!r}"
        for name in ("id", "title", "role", "guidance", "policy"):
            if not str(spec.get(name) or "").strip():
                problems.append(f"{where}: needs {name}")
        if sid in seen_steps:
            problems.append(f"{where}: the id is used twice")
        seen_steps.add(sid)
        contacts = tuple(str(c) for c in spec.get("contacts") or [])
        for role in contacts:
            if role not in ROLES:
                at = f"line {_line_within(lines, line, 'contacts')}: step {sid!r}"
                problems.append(
                    f"{at}: contacts: unknown role {role!r} (known: {', '.join(ROLES)})"
                )
        action = str(spec.get("action") or "")
        if action and action not in ACTIONS:
            at = f"line {_line_within(lines, line, 'action')}: step {sid!r}"
            problems.append(f"{at}: action must be one of {', '.join(ACTIONS)}")
        when = str(spec.get("when") or "")
        if when:
            at = f"line {_line_within(lines, line, 'when')}: step {sid!r}"
            problems.extend(_check_condition(when, known, f"{at}: when"))
        facts = tuple(_facts(spec, lines, line - 1, where, known, problems))
        keys = {f.key for f in facts}
        if spec.get("matrix") and not {"likelihood", "consequence"} <= keys:
            problems.append(f"{where}: a matrix step needs likelihood and consequence facts")
        if "mandatory" in spec and not isinstance(spec["mandatory"], bool):
            at = f"line {_line_within(lines, line, 'mandatory')}: step {sid!r}"
            problems.append(f"{at}: mandatory must be true or false")
        if action == "stop_posts" and "stop_posts" not in keys:
            problems.append(f"{where}: action stop_posts needs a yesno fact called stop_posts")
        known |= keys
        if spec.get("matrix"):
            known |= set(DERIVED)
        steps.append(
            Step(
                id=sid,
                title=str(spec.get("title") or ""),
                role=str(spec.get("role") or ""),
                guidance=_reflow(str(spec.get("guidance") or "")),
                policy=str(spec.get("policy") or ""),
                facts=facts,
                contacts=contacts,
                when=when,
                warning=_reflow(str(spec.get("warning") or "")),
                notify=bool(spec.get("notify")),
                matrix=bool(spec.get("matrix")),
                action=action,
                mandatory=spec.get("mandatory") is True,
            )
        )
    if not steps and not problems:
        problems.append("line 1: [[steps]]: at least one step is needed")
    if problems:
        raise ConfigError(f"{path}: " + "; ".join(problems))
    return Playbook(
        str(raw.get("id") or path.stem),
        str(raw.get("title") or "Incident"),
        str(raw.get("policy") or ""),
        tuple(steps),
        str(path),
    )


def _reflow(text: str) -> str:
    """Lines of a paragraph joined, so the screen wraps them; blank lines keep paragraphs."""
    paragraphs = re.split(r"\n\s*\n", text.strip())
    return "\n\n".join(" ".join(p.split()) for p in paragraphs)


def _check_condition(text: str, known: set[str], where: str) -> list[str]:
    try:
        condition = parse_condition(text)
    except ValueError as exc:
        return [f"{where}: {exc}"]
    missing = sorted(condition.keys - known)
    if missing:
        return [f"{where}: {', '.join(missing)} is not a fact of an earlier step"]
    return []


def _facts(
    spec: dict, lines: list[str], from_line: int, where: str, known: set[str], problems: list[str]
):
    keys: set[str] = set()
    for index, fact in enumerate(spec.get("facts") or [], start=1):
        key = str(fact.get("key") or "") if isinstance(fact, dict) else ""
        line = _line_of(lines, rf'key\s*=\s*"{re.escape(key)}"', from_line) if key else from_line
        at = f"line {line}: fact {key or index!r} of {where.split(': ', 1)[1]}"
        if not key or not re.fullmatch(r"[a-z_][a-z0-9_]*", key) or not fact.get("label"):
            problems.append(f"{at}: needs a key (lower-case letters, digits, _) and a label")
            continue
        if key in known or key in keys or key in DERIVED:
            problems.append(f"{at}: the key is already used")
        keys.add(key)
        kind = str(fact.get("kind") or "text")
        if kind not in FACT_KINDS:
            kind_at = at.replace(f"line {line}:", f"line {_line_within(lines, line, 'kind')}:", 1)
            problems.append(f"{kind_at}: kind must be one of {', '.join(FACT_KINDS)}")
        choices: tuple[tuple[str, str], ...] = ()
        if kind == "choice":
            raw = fact.get("choices") or []
            if len(raw) < 2 or any(not isinstance(c, list) or len(c) != 2 for c in raw):
                problems.append(f"{at}: choices must be at least two [id, label] pairs")
            else:
                choices = tuple((str(c[0]), str(c[1])) for c in raw)
        low, high = fact.get("min"), fact.get("max")
        if kind == "number" and (low is not None and high is not None and low > high):
            problems.append(f"{at}: min is more than max")
        required_when = str(fact.get("required_when") or "")
        if required_when:
            problems.extend(_check_condition(required_when, known | keys, f"{at}: required_when"))
        yield Fact(
            key=key,
            label=str(fact.get("label")),
            kind=kind,
            optional=bool(fact.get("optional")),
            required_when=required_when,
            choices=choices,
            min=low,
            max=high,
            help=str(fact.get("help") or ""),
        )


def shipped_playbook_path() -> Path:
    return shipped_data_dir() / "playbooks" / PLAYBOOK_FILE


def current_playbook() -> Playbook:
    return load_playbook()


def playbook_in_force() -> tuple[Playbook, str]:
    """The user's copy if it loads, else the shipped one and why the copy was refused.

    An incident must always be startable: a broken copy never stands between the operator and
    the procedure.
    """
    try:
        return load_playbook(), ""
    except ConfigError as exc:
        return load_playbook(shipped_playbook_path()), f"{exc}; the shipped playbook is used"
