"""Risk flagging (issue 16): the rule language, the ReDoS guard, explanations, the council's own
contact details, `rules test/eval/rescan`, the queue's unflagged line, and the measured figures
on the labelled posts in tests/data."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from smduty.cli import main
from smduty.core.config import Config, ConfigError
from smduty.core.errors import InvalidInput
from smduty.core.monitoring.flag_eval import evaluate, read_labelled
from smduty.core.monitoring.flag_load import load_rules, ruleset_for
from smduty.core.monitoring.mentions import MentionWriter, RawMention
from smduty.core.store import transaction
from smduty.core.triage import queue as triage

DATA = Path(__file__).parent / "data"

CATEGORIES = """
[categories.threat]
likelihood = 3
consequence = 4
[categories.other]
likelihood = 1
consequence = 2
"""


def ruleset(tmp_path, body: str, extra_watch=(), extra_published=()):
    path = tmp_path / "rules.toml"
    path.write_text(CATEGORIES + body, encoding="utf-8")
    return load_rules(path).compile(list(extra_watch), list(extra_published))


def rating(rules, text: str) -> str:
    return rules.scan({"text": text}).rating


@pytest.fixture(scope="module")
def shipped():
    return load_rules().compile(["Castlemere"])


# --- the rule language ---------------------------------------------------------------------


def test_terms_match_inflections_misspellings_drawn_out_letters_leetspeak_and_accents(tmp_path):
    rules = ruleset(tmp_path, '[[rule]]\nid = "h"\ncategory = "threat"\nterms = ["kill", "stab"]\n')
    for text in ["kill", "KILLED", "killing", "kills", "kil", "kiiiill", "k1ll", "stabbed",
                 "stabbing", "Stàb", "5tab"]:  # fmt: skip
        assert rating(rules, f"they will {text} him") == "high", text
    for text in ["skill", "skilled", "stable", "kiln", "killjoy"]:
        assert rating(rules, f"the {text} shop") == "none", text


def test_exact_and_any_ending_terms(tmp_path):
    rules = ruleset(
        tmp_path,
        '[[rule]]\nid = "e"\ncategory = "other"\nterms = ["=shot", "groom*"]\n',
    )
    assert rating(rules, "he was shot") == "low"
    assert rating(rules, "shots") == "none"  # exact: no inflections
    assert rating(rules, "groomers and grooming") == "low"


def test_near_asks_for_context_within_so_many_words(tmp_path):
    rules = ruleset(
        tmp_path,
        '[lexicon]\nharm = ["hurt"]\ntarget = ["social worker", "@named_person"]\n'
        'first_names = ["karen"]\n'
        '[[rule]]\nid = "t"\ncategory = "threat"\nterms = ["@harm"]\nnear = ["@target"]\n'
        "within = 4\n",
    )
    assert rating(rules, "I will hurt the social worker") == "high"
    assert rating(rules, "the social worker said it would not hurt") == "high"
    assert rating(rules, "hurt, and then one two three four five, a social worker") == "none"
    assert rating(rules, "hurt") == "none"
    assert rating(rules, "going to hurt Karen Doyle") == "high"  # a named person
    assert rating(rules, "going to hurt Cllr Evans") == "high"
    assert rating(rules, "going to hurt the karen doyle fan club") == "none"  # not capitalised


def test_unless_cancels_a_match_and_says_why(tmp_path):
    rules = ruleset(
        tmp_path,
        '[[rule]]\nid = "t"\ncategory = "threat"\nterms = ["kill", "shoot"]\n'
        'unless = ["tomatoes", "photo shoot"]\n',
    )
    verdict = rules.scan({"text": "this frost will kill my tomatoes"})
    assert verdict.rating == "none"
    assert verdict.cancelled[0].why == "cancelled by 'tomatoes'"
    assert rating(rules, "Lovely photo shoot at the library") == "none"
    assert rating(rules, "kill them all now, they said, and later we planted tomatoes") == "high"


def test_modifiers_raise_and_lower_and_the_arithmetic_is_explained(tmp_path):
    rules = ruleset(
        tmp_path,
        '[[rule]]\nid = "t"\ncategory = "threat"\nterms = ["hurt"]\n'
        '[[modifier]]\nid = "intent"\ncategories = ["threat"]\nterms = ["going to"]\n'
        'within = 3\nside = "before"\nlikelihood = 1\n'
        '[[modifier]]\nid = "reported"\ncategories = ["threat"]\nterms = ["police say"]\n'
        "within = 20\nlikelihood = -2\n",
    )
    plain = rules.scan({"text": "someone will hurt"})
    assert (plain.risk, plain.rating) == (12, "high")
    raised = rules.scan({"text": "I am going to hurt them"})
    assert (raised.risk, raised.rating) == (16, "critical")
    assert raised.matches[0].why == "+1 likelihood: intent 'going to'"
    assert raised.explain()[0] == (
        "threat: 'hurt' (t) 4 x 4 = 16 critical; +1 likelihood: intent 'going to'"
    )
    after = rules.scan({"text": "hurt, going to"})  # side = before: after does not count
    assert after.risk == 12
    lowered = rules.scan({"text": "police say a man was hurt"})
    assert (lowered.risk, lowered.rating) == (4, "medium")


def test_lexicons_can_name_lexicons_and_unknown_ones_are_refused(tmp_path):
    rules = ruleset(
        tmp_path,
        '[lexicon]\nweapons = ["knife"]\nharm = ["@weapons", "stab"]\n'
        '[[rule]]\nid = "t"\ncategory = "threat"\nterms = ["@harm"]\n',
    )
    assert rating(rules, "a knife") == "high"
    with pytest.raises(ConfigError, match="no lexicon called 'nothing'"):
        ruleset(tmp_path, '[[rule]]\nid = "t"\ncategory = "threat"\nterms = ["@nothing"]\n')


# --- the guard against patterns that hang, and broken files --------------------------------


def test_a_catastrophic_pattern_cannot_stall_flagging(tmp_path):
    rules = ruleset(tmp_path, '[[rule]]\nid = "r"\ncategory = "other"\npattern = "(a+)+$"\n')
    post = "a" * 29 + "!"
    began = time.perf_counter()
    rules.scan({"text": post * 300})  # 9,000 characters
    assert time.perf_counter() - began < 0.5  # Python's re took 12.8 s on 29 characters


@pytest.mark.parametrize(
    ("pattern", "says"),
    [
        ("(?<=@)x", "look-ahead or look-behind"),
        ("(a)\\\\1", "back-reference"),
        ("(unclosed", "does not compile"),
    ],
)
def test_patterns_re2_cannot_run_are_refused_with_the_rule_and_reason(tmp_path, pattern, says):
    with pytest.raises(ConfigError) as caught:
        ruleset(tmp_path, f'[[rule]]\nid = "bad"\ncategory = "other"\npattern = "{pattern}"\n')
    assert "rule 'bad'" in str(caught.value) and says in str(caught.value)


def test_a_rules_file_with_no_rules_or_a_misspelt_key_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="there are no rules"):
        ruleset(tmp_path, "")
    with pytest.raises(ConfigError, match="unknown key 'termz'"):
        ruleset(tmp_path, '[[rule]]\nid = "x"\ncategory = "other"\ntermz = ["a"]\n')


# --- personal data: the council's own details are not personal data ---------------------------


def test_the_councils_own_numbers_and_addresses_are_not_personal_data(tmp_path, shipped, db):
    assert rating(shipped, "Call Jo on 07700 900461 at home, here's his mobile") in (
        "high",
        "critical",
    )
    assert rating(shipped, "Report a missed bin on 01632 960 000") in ("none", "low")
    published = load_rules().compile([], ["07700 900461", "@castlemere.example.gov.uk"])
    verdict = published.scan({"text": "Ring 07700 900 461 or bins@castlemere.example.gov.uk"})
    assert verdict.rating == "none"
    assert {m.why for m in verdict.cancelled} == {
        "the council's own published number",
        "the council's own published address",
    }
    assert rating(shipped, "email help@eastbrook.gov.uk") == "none"  # a public body's
    # The config's list reaches the rules in force.
    config = Config(published_contacts=("07700 900461",))
    assert rating(
        ruleset_for(db, None, Config()), "Ring 07700 900461 for a bulky waste pickup"
    ) == ("medium")
    assert rating(ruleset_for(db, None, config), "Ring 07700 900461 for a bulky waste pickup") == (
        "none"
    )


# --- what the shipped rules make of posts people write ------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Someone should put a bullet in the council leader's head",
        "I'm going to end it all tonight, the council took my flat",
        "My little girl told me her teacher touched her",
        "I'm going to hurt the social worker",
    ],
)
def test_the_posts_the_issue_names_reach_a_person(shipped, text):
    assert rating(shipped, text) in ("high", "critical")


@pytest.mark.parametrize(
    "text",
    [
        "Lovely photo shoot at Castlemere library",
        "this frost will kill my tomatoes",
        "Safeguarding training for school governors at the civic centre",
        "The fire service will be at the summer fair",
    ],
)
def test_harmless_posts_with_trigger_words_do_not_raise_an_alarm(shipped, text):
    assert rating(shipped, text) not in ("high", "critical")


@pytest.mark.parametrize("name", ["flagging-labelled.jsonl", "flagging-holdout.jsonl"])
def test_the_labelled_sets_meet_the_targets(shipped, name):
    """Recall of high-risk posts at high or critical >= 0.90; harmless posts rated high or
    critical <= 0.05. bench/RESULTS.md has the figures by category (`smduty rules eval`)."""
    result = evaluate(shipped, read_labelled(DATA / name))
    assert result.recall >= 0.90, [p.text for p, _ in result.misses]
    assert result.false_positive_rate <= 0.05, [p.text for p, _ in result.false_alarms]


def test_the_labelled_set_is_big_and_varied_enough():
    posts = read_labelled(DATA / "flagging-labelled.jsonl")
    harmless = [p for p in posts if p.expect == "none"]
    assert len(posts) >= 400 and len(harmless) / len(posts) >= 0.40
    high = {p.category for p in posts if p.expect == "high"}
    assert {"threat", "self_harm", "safeguarding", "personal_data", "defamation",
            "emergency"} <= high  # fmt: skip


def test_a_labelled_file_with_a_bad_line_is_refused_naming_it(tmp_path):
    path = tmp_path / "set.jsonl"
    path.write_text('{"text": "ok", "expect": "none"}\n{"text": "x", "expect": "maybe"}\n')
    with pytest.raises(InvalidInput, match=r"set.jsonl: line 2: expect must be one of high"):
        read_labelled(path)


# --- the commands --------------------------------------------------------------------------


def cli(db_path, *args):
    return CliRunner().invoke(main, ["--db", str(db_path), *args])


def test_rules_test_explains_one_post(db_path):
    result = cli(db_path, "rules", "test", "I'm going to hurt the social worker", "--json")
    assert result.exit_code == 0, result.output
    found = json.loads(result.output)
    assert found["rating"] == "critical" and found["categories"][0] == "threat"
    [best, *_] = found["matches"]
    assert best["why"].startswith("near 'social worker'")
    assert "4 x 4 = 16 critical" in found["explanation"][0]
    plain = cli(db_path, "rules", "test", "this frost will kill my tomatoes")
    assert plain.output.startswith("none") and "cancelled by" in plain.output


def test_rules_eval_reports_recall_false_alarms_by_category_and_worst_misses(db_path, tmp_path):
    path = tmp_path / "mine.jsonl"
    path.write_text(
        "\n".join(
            json.dumps(row)
            for row in [
                {"text": "I will stab the housing officer", "expect": "high", "category": "t"},
                {"text": "the weather is nice", "expect": "high", "category": "t"},
                {"text": "photo shoot at the library", "expect": "none", "category": "h"},
            ]
        )
    )
    result = cli(db_path, "rules", "eval", str(path), "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert (report["recall"], report["false_positive_rate"]) == (0.5, 0.0)
    assert report["by_category"]["t"]["caught"] == 1
    assert report["worst_misses"][0]["text"] == "the weather is nice"
    words = cli(db_path, "rules", "eval", str(path))
    assert "recall of high-risk posts at high or critical: 50.0% (1 of 2" in words.output
    assert cli(db_path, "rules", "eval", str(tmp_path / "none.jsonl")).exit_code == 2


def test_rules_eval_can_try_an_edited_copy(db_path, tmp_path):
    copy = tmp_path / "rules.toml"
    copy.write_text(CATEGORIES + '[[rule]]\nid = "w"\ncategory = "threat"\nterms = ["weather"]\n')
    path = tmp_path / "mine.jsonl"
    path.write_text(json.dumps({"text": "the weather is nice", "expect": "high"}) + "\n")
    report = json.loads(cli(db_path, "rules", "eval", str(path), "--rules", str(copy),
                            "--json").output)  # fmt: skip
    assert report["recall"] == 1.0


def add_mention(db, text: str, rules, source="test") -> int:
    with transaction(db):
        writer = MentionWriter(db, rules, source, triage.now_utc())
        writer.add(RawMention(source_item_id=text[:20], text=text))
        writer.close()
    return db.execute("SELECT id FROM mentions WHERE text = ?", (text,)).fetchone()[0]


def test_rescan_reflags_open_mentions_after_a_rules_change_and_is_audited(db, db_path, smduty_home):
    weak = load_rules().compile([])
    weak.rules = [r for r in weak.rules if r.category != "threat"]
    weak.compile([])
    mention = add_mention(db, "I'm going to stab the bin man tomorrow", weak)
    closed = add_mention(db, "I will stab the housing officer", weak)
    db.execute("UPDATE mentions SET status = 'dismissed' WHERE id = ?", (closed,))
    assert db.execute("SELECT rating FROM mentions WHERE id = ?", (mention,)).fetchone()[0] in (
        "none",
        "low",
    )
    result = cli(db_path, "rules", "rescan", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["changed"] == 1 and report["raised"] == 1
    row = db.execute("SELECT rating FROM mentions WHERE id = ?", (mention,)).fetchone()
    assert row[0] == "critical"
    assert db.execute(  # the closed one keeps the verdict it was handled under
        "SELECT rating FROM mentions WHERE id = ?", (closed,)
    ).fetchone()[0] in ("none", "low")
    why = db.execute("SELECT why FROM mention_matches WHERE mention_id = ?", (mention,)).fetchall()
    assert any("intent" in w[0] for w in why)
    actions = [r[0] for r in db.execute("SELECT action FROM audit_log ORDER BY id")]
    assert actions[-2:] == ["mention.rescan", "rules.rescan"]


# --- nothing hidden by default ---------------------------------------------------------------


def test_the_queue_says_how_many_unflagged_mentions_it_leaves_out(demo_db, db_path):
    rules = ruleset_for(demo_db)
    add_mention(demo_db, "Nice day at the Mere", rules)
    hidden = triage.unflagged_count(demo_db, triage.Filters())
    shown_any = triage.count(demo_db, triage.Filters(rating="any"))
    assert hidden > 0 and shown_any == triage.count(demo_db, triage.Filters()) + hidden
    assert triage.unflagged_count(demo_db, triage.Filters(rating="any")) == 0
    result = cli(db_path, "queue")
    assert f"{hidden} unflagged mentions not listed (--rating any" in result.output


def test_ruling_out_by_exact_context_words_never_changes_a_verdict():
    """The fast paths (a rule needing an exact context word is skipped when no spelling of the
    post holds one; a pattern that cannot hold a space runs only when one word of the post has
    every character it needs) give the verdict the slow path gives, on every labelled post and
    on spellings made to slip past them."""
    fast = load_rules().compile(["Castlemere"])
    slow = load_rules().compile(["Castlemere"])
    slow._build()
    slow._near_words = [None] * len(slow.rules)  # every hit to the slow path
    slow._plan = [(*step[:-1], False) for step in slow._plan]  # every pattern run when it may
    posts = [p.text for name in ("flagging-labelled.jsonl", "flagging-holdout.jsonl")
             for p in read_labelled(DATA / name)]  # fmt: skip
    posts += ["I'll do myself in", "gonna d0 mys3lf in tonight", "DO MYSELF IN", "do meself",
              "going to hang myyyself", "I'll do mysélf in", "do it yourself",
              "mail jo.bloggs@example.com now", "@handle. Next sentence", "a@b.co", "x@y\u00a0.com",
              "jo@example . com", "email me: JO@EXAMPLE.ORG.UK", "(jo@ex.org)"]  # fmt: skip
    for text in posts:
        a, b = fast.scan({"text": text}), slow.scan({"text": text})
        assert (a.risk, a.rating, [m.rule for m in a.matches], [m.rule for m in a.cancelled]) == (
            b.risk, b.rating, [m.rule for m in b.matches], [m.rule for m in b.cancelled]
        ), text  # fmt: skip


def test_the_one_word_gate_agrees_with_splitting_into_words():
    """in_one_token searches with a regex per order of the characters; it must say what
    splitting the post into words (str.split) says, whatever the whitespace."""
    import random

    from smduty.core.monitoring.flag_patterns import in_one_token

    def by_words(text, chars):
        return any(all(c in word for c in chars) for word in text.split())

    rng = random.Random(7)
    alphabet = "ab@.xy \t\n\u00a0\u2003\u3000\x1c\x85-_é*"
    said = set()
    for _ in range(20_000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 24)))
        for chars in (("@", "."), (".", "@"), ("@", ".", "-"), ("a", "b", "@", "."), ("*",)):
            expected = by_words(text, chars)
            assert in_one_token(text, chars) == expected, (text, chars)
            said.add(expected)
    assert said == {True, False}
    long = ("a@b " * 3 + "x.y ") * 50
    assert not in_one_token(long, ("@", ".")) and in_one_token(long + "me@x.org", ("@", "."))
