"""Corpus recipes: each source format -> one manifest; filters, dedup, speaker-disjoint splits, cards.

Audio is real espeak-ng speech made in the test; the STM lines are real Kallaama transcripts
(tests/fixtures/kallaama, CC-BY 4.0, attribution in its README) with stand-in audio at their times.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from corpora.card import render_card
from corpora.ingest import IngestOptions, ingest
from corpora.manifest import Entry, read_manifest, read_meta, write_manifest
from corpora.split import assign_splits, speaker_overlap
from corpora.stats import hms, manifest_stats
from corpora.text import clean_transcript
from tests.conftest import espeak
from voice.audio import Audio, write_audio
from voice.errors import BadInputError
from voice.packs import get_pack

FIXTURES = Path(__file__).parent / "fixtures" / "kallaama"
VOICE = str(Path(sys.executable).parent / "voice")
SENTENCES = [
    "naka nga def", "jërëjëf waaw", "sama telefon dafa yàqu", "dama bëgg pass internet",
    "xaalis bi agsiwul", "ma ngi lay nuyu", "balance bi ñaata la", "réseau bi amul",
]  # fmt: skip


def say(path: Path, text: str, voice: str = "fr") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_audio(path, espeak(text, voice=voice))
    return path


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [VOICE, *args], capture_output=True, text=True, timeout=300, env={**os.environ, "HF_HUB_OFFLINE": "1"}
    )


# --- transcript clean-up ----------------------------------------------------------------------


def test_clean_transcript_keeps_code_switched_words_and_tags_them():
    c = clean_transcript("[conv] ndax xam nga semence :fra certifiée :fra [conv] mooy %e xa() bu mucc")
    assert c.text == "ndax xam nga semence certifiée mooy bu mucc"
    assert c.foreign == [[3, "fra"], [4, "fra"]]
    assert c.noise_tags == 2 and c.truncated == 1 and not c.unintelligible


def test_clean_transcript_glued_tags_elisions_and_unintelligible():
    c = clean_transcript("ci commune :frabi jot d' :fra identité :fra pour:fra bisimilah :ar * toolu")
    assert c.text == "ci commune bi jot d'identité pour bisimilah toolu"
    assert c.foreign == [[1, "fra"], [4, "fra"], [5, "fra"], [6, "ara"]]
    assert c.unintelligible


# --- STM (Kallaama) ----------------------------------------------------------------------------


def stm_with_audio(tmp: Path, lang: str) -> tuple[Path, Path]:
    """The fixture STM files, and stand-in recordings with espeak speech at each line's time."""
    src = tmp / "stm"
    shutil.copytree(FIXTURES / f"raw-{lang}", src)
    audio_dir = tmp / "audio"
    audio_dir.mkdir()
    for stm in src.glob("*.stm"):
        lines = [x.split(None, 5) for x in stm.read_text().splitlines() if x and not x.startswith(";;")]
        end = max(float(x[4]) for x in lines)
        samples = np.zeros(int((end + 0.5) * 16000), dtype=np.float32)
        for x in lines:
            words = clean_transcript(x[5].split(">", 1)[-1]).text
            if not words:
                continue
            speech = espeak(words, voice="fr").samples
            start, stop = int(float(x[3]) * 16000), int(float(x[4]) * 16000)
            piece = speech[: stop - start]
            samples[start : start + len(piece)] = piece
        write_audio(audio_dir / f"{stm.stem}.wav", Audio(samples, 16000))
    return src, audio_dir


def test_stm_ingest_on_real_kallaama_lines(tmp_path):
    src, audio = stm_with_audio(tmp_path, "wol")
    out = tmp_path / "wol.jsonl"
    report = ingest(
        IngestOptions(
            fmt="stm",
            src=str(src),
            out=str(out),
            language="wol",
            source="kallaama",
            audio_dirs=[str(audio)],
            min_duration=0.3,
        )
    )
    entries = {e.id: e for e in read_manifest(out)}
    assert report["licence"] == "CC-BY-4.0" and report["written"] == len(entries)
    assert report["dropped"]["unintelligible words (*) in the transcript"] == 1  # wol_11410
    assert report["dropped"]["empty text (noise or hesitation only)"] >= 2  # %hum %hum lines
    e = entries["kallaama-wol_35710-locuteur_1-00017117"]
    assert e.text == "ndax xam nga semence certifiée mooy semence bu mucc ayib"
    assert e.foreign == [[3, "fra"], [4, "fra"], [6, "fra"]]
    assert e.offset == pytest.approx(17.117) and e.duration == pytest.approx(2.924)
    assert e.speaker == "wol_35710/locuteur_1" and e.gender == "male" and e.language == "wol"
    pack = get_pack("wol")
    raw = "[conv] ndax xam nga semence :fra certifiée :fra [conv] mooy semence :fra bu mucc ayib"
    assert e.text_norm == pack.normalise(raw) and e.normaliser == f"wol@{pack.manifest.normaliser_version}"
    assert e.tagged_text() == "ndax xam nga semence :fra certifiée :fra mooy semence :fra bu mucc ayib"
    frabi = next(x for x in entries.values() if x.id.startswith("kallaama-wol_41930"))
    words = frabi.text.split()
    assert "commune bi jot" in frabi.text and [words.index("commune"), "fra"] in frabi.foreign
    assert [words.index("bi"), "fra"] not in frabi.foreign  # `:frabi` = the tag + the Wolof word bi
    female = [x for x in entries.values() if x.speaker == "wol_35312/locuteur_2"]
    assert female and all(x.gender == "female" for x in female)
    assert not any("excluded" in x.speaker for x in entries.values())
    assert all(Path(x.audio).exists() and x.offset + x.duration <= 21 for x in entries.values())
    assert not speaker_overlap(list(entries.values()))
    assert {x.split for x in entries.values()} == {"train", "dev", "test"}


def test_stm_pulaar_uses_the_pulaar_normaliser(tmp_path):
    src, audio = stm_with_audio(tmp_path, "fuc")
    out = tmp_path / "fuc.jsonl"
    ingest(
        IngestOptions(
            fmt="stm",
            src=str(src),
            out=str(out),
            language="fuc",
            source="kallaama",
            audio_dirs=[str(audio)],
            min_duration=0.3,
            split="train",
        )
    )
    entries = read_manifest(out)
    texts = {e.text for e in entries}
    assert "mbaɗɗa e tampere woɗɗo radio jaafoɗa" in texts  # hooked letters kept, :fra tag gone
    assert all(e.language == "fuc" and e.normaliser.startswith("fuc@") for e in entries)
    assert all(e.text_norm == get_pack("fuc").normalise(e.tagged_text()) for e in entries)


def test_stm_without_audio_says_how_to_fix(tmp_path):
    with pytest.raises(BadInputError, match="--audio-dir"):
        ingest(
            IngestOptions(
                fmt="stm", src=str(FIXTURES / "raw-wol"), out=str(tmp_path / "x.jsonl"), language="wol"
            )
        )


# --- Kaldi (ALFFA layout) ----------------------------------------------------------------------


def kaldi_corpus(root: Path) -> Path:
    """ALFFA-like: data/{train,dev,test}/ with wav.scp (relative paths), text, utt2spk, spk2gender;
    dev has a `segments` file over one recording and train a pipe entry."""
    data = root / "data"
    layout = {"train": ["01", "02", "03"], "test": ["05"]}
    n = 0
    for split, speakers in layout.items():
        d = data / split
        d.mkdir(parents=True)
        scp, text, u2s = [], [], []
        for spk in speakers:
            for k in range(2):
                utt = f"WOL_{spk}_lect_{k:04d}"
                rel = f"data/{split}/{spk}/{utt}.wav"
                say(root / rel, SENTENCES[n % len(SENTENCES)])
                scp.append(f"{utt} sox {rel} -t wav - |" if spk == "02" and k == 0 else f"{utt} {rel}")
                text.append(f"{utt} {SENTENCES[n % len(SENTENCES)]}")
                u2s.append(f"{utt} {spk}")
                n += 1
        (d / "wav.scp").write_text("\n".join(scp) + "\n")
        (d / "text").write_text("\n".join(text) + "\n")
        (d / "utt2spk").write_text("\n".join(u2s) + "\n")
        (d / "spk2gender").write_text("\n".join(f"{s} {'f' if s == '02' else 'm'}" for s in speakers) + "\n")
    dev = data / "dev"
    dev.mkdir()
    a, b = espeak("naka nga def"), espeak("ba beneen yoon")
    write_audio(dev / "rec_dev.wav", Audio.concat([a, Audio.silence(0.5), b]))
    (dev / "wav.scp").write_text("rec_dev rec_dev.wav\n")
    (dev / "segments").write_text(
        f"utt_a rec_dev 0.00 {a.duration:.2f}\n"
        f"utt_b rec_dev {a.duration + 0.5:.2f} {a.duration + 0.5 + b.duration:.2f}\n"
    )
    (dev / "text").write_text("utt_a naka nga def\nutt_b ba beneen yoon\n")
    (dev / "utt2spk").write_text("utt_a 09\nutt_b 09\n")
    return data


def test_kaldi_ingest_alffa_layout(tmp_path):
    data = kaldi_corpus(tmp_path / "alffa")
    out = tmp_path / "alffa.jsonl"
    report = ingest(IngestOptions(fmt="kaldi", src=str(data), out=str(out), language="wol", source="alffa"))
    entries = {e.id: e for e in read_manifest(out)}
    assert report["split"]["mode"] == "keep" and len(entries) == 10
    assert {e.split for e in entries.values()} == {"train", "dev", "test"}
    assert entries["alffa-WOL_01_lect_0000"].split == "train"
    assert entries["alffa-WOL_05_lect_0001"].split == "test"
    assert entries["alffa-WOL_02_lect_0000"].audio.endswith(
        "data/train/02/WOL_02_lect_0000.wav"
    )  # pipe entry
    assert entries["alffa-WOL_02_lect_0000"].gender == "female"
    assert entries["alffa-WOL_01_lect_0001"].gender == "male"
    seg = entries["alffa-utt_b"]
    assert seg.offset > 1.0 and seg.audio.endswith("rec_dev.wav") and seg.text == "ba beneen yoon"
    assert all(e.licence == "unspecified" for e in entries.values())  # ALFFA states no licence
    assert not speaker_overlap(list(entries.values()))


# --- Hugging Face datasets (FLEURS-like, saved to disk) ----------------------------------------


def test_hf_ingest_from_saved_dataset(tmp_path):
    datasets = pytest.importorskip("datasets")
    wavs = [say(tmp_path / "src" / f"{i}.wav", s) for i, s in enumerate(SENTENCES[:6])]
    features = datasets.Features(
        {
            "id": datasets.Value("int32"),
            "path": datasets.Value("string"),
            "audio": {"bytes": datasets.Value("binary"), "path": datasets.Value("string")},
            "raw_transcription": datasets.Value("string"),
            "transcription": datasets.Value("string"),
            "gender": datasets.ClassLabel(names=["male", "female", "other"]),
        }
    )

    def part(idx: list[int], embed: bool):
        """FLEURS columns; audio either a path on disk or embedded bytes (as the hub's parquet has)."""
        rows = {
            "id": [100 + i // 2 for i in idx],
            "path": [f"{i}.wav" for i in idx],
            "audio": [
                {"bytes": wavs[i].read_bytes() if embed else None, "path": None if embed else str(wavs[i])}
                for i in idx
            ],
            "raw_transcription": [SENTENCES[i].capitalize() + "." for i in idx],
            "transcription": [SENTENCES[i] for i in idx],
            "gender": [i % 2 for i in idx],
        }
        # Cast, not encode: datasets' Audio encoder needs torchcodec, which this project does not use.
        return datasets.Dataset.from_dict(rows, features=features).cast_column(
            "audio", datasets.Audio(sampling_rate=16000)
        )

    saved = tmp_path / "fleurs-wo_sn"
    datasets.DatasetDict(
        {"train": part([0, 1, 2], False), "validation": part([3], True), "test": part([4, 5], True)}
    ).save_to_disk(str(saved))
    out = tmp_path / "fleurs.jsonl"
    report = ingest(IngestOptions(fmt="hf", src=str(saved), out=str(out), language="wo", source="fleurs"))
    entries = read_manifest(out)
    assert report["written"] == 6 and report["split"]["mode"] == "keep"
    assert sorted(e.split for e in entries) == ["dev", "test", "test", "train", "train", "train"]
    assert {e.language for e in entries} == {"wol"} and {e.licence for e in entries} == {"CC-BY-4.0"}
    by_text = {e.text_norm: e for e in entries}
    assert by_text["naka nga def"].text == "Naka nga def." and by_text["naka nga def"].gender == "male"
    assert by_text["jërëjëf waaw"].gender == "female"
    assert all(Path(e.audio).exists() and e.duration > 0.3 for e in entries)
    embedded = [e for e in entries if e.split != "train"]
    assert all(Path(e.audio).is_relative_to(tmp_path / "audio") for e in embedded)  # bytes written out


# --- plain folders -------------------------------------------------------------------------------


def folder_corpus(root: Path, speakers: int = 5, per_speaker: int = 2) -> Path:
    n = 0
    for s in range(speakers):
        for k in range(per_speaker):
            text = SENTENCES[n % len(SENTENCES)] + f" {['benn', 'ñaar', 'ñett', 'ñeent', 'juróom'][s % 5]}"
            say(root / f"spk{s}" / f"utt{k}.wav", text, voice="fr" if s % 2 else "en-us")
            (root / f"spk{s}" / f"utt{k}.txt").write_text(text + "\n")
            n += 1
    (root / "speakers.tsv").write_text(
        "speaker\tgender\n" + "".join(f"spk{s}\t{'F' if s % 2 else 'M'}\n" for s in range(speakers))
    )
    return root


def test_folder_ingest_splits_are_speaker_disjoint(tmp_path):
    src = folder_corpus(tmp_path / "folder")
    out = tmp_path / "folder.jsonl"
    report = ingest(
        IngestOptions(
            fmt="folder", src=str(src), out=str(out), language="wol", licence="CC0-1.0", dev=0.2, test=0.2
        )
    )
    entries = read_manifest(out)
    assert report["split"]["mode"] == "speaker" and len(entries) == 10
    assert {e.split for e in entries} == {"train", "dev", "test"}
    assert not speaker_overlap(entries)
    splits_of = {}
    for e in entries:
        splits_of.setdefault(e.speaker, set()).add(e.split)
    assert all(len(s) == 1 for s in splits_of.values())
    assert {e.gender for e in entries if e.speaker == "spk1"} == {"female"}


def test_filters_and_dedup(tmp_path):
    src = tmp_path / "folder"
    say(src / "a" / "keep.wav", "naka nga def")
    (src / "a" / "keep.txt").write_text("naka nga def")
    shutil.copy(src / "a" / "keep.wav", src / "a" / "copy.wav")  # same bytes, other name
    (src / "a" / "copy.txt").write_text("naka nga def")
    say(src / "b" / "retake.wav", "naka nga def waaw", voice="en-us")
    (src / "b" / "retake.txt").write_text("naka nga def waaw")
    say(src / "b" / "retake2.wav", "naka nga def waaw", voice="fr")
    (src / "b" / "retake2.txt").write_text("naka nga def waaw")
    write_audio(src / "b" / "short.wav", Audio.silence(0.4))
    (src / "b" / "short.txt").write_text("waaw")
    write_audio(src / "c" / "long.wav", Audio.silence(31))
    (src / "c" / "long.txt").write_text("waaw")
    write_audio(src / "c" / "noise.wav", espeak("hmm"))
    (src / "c" / "noise.txt").write_text("[r] %hum")
    write_audio(src / "c" / "dense.wav", espeak("waaw"))
    (src / "c" / "dense.txt").write_text("waaw " * 40)
    out = tmp_path / "f.jsonl"
    report = ingest(
        IngestOptions(
            fmt="folder",
            src=str(src),
            out=str(out),
            language="wol",
            licence="CC0-1.0",
            split="train",
            min_duration=0.7,
        )
    )
    kept = {Path(e.audio).name for e in read_manifest(out)}
    assert kept == {"copy.wav", "retake.wav"}  # of two identical files the first (sorted) stays
    d = read_meta(out)["dropped"]
    assert d == report["dropped"]
    assert d["duplicate audio"] == 1 and d["same speaker, same text"] == 1
    assert d["longer than 30 s"] == 1 and d["shorter than 0.7 s"] == 1
    assert d["empty text (noise or hesitation only)"] == 1 and d["more than 25 characters per second"] == 1


# --- splits, stats, card -------------------------------------------------------------------------


def synthetic_entries(n_speakers: int = 40, seed: int = 1) -> tuple[list[Entry], list[str]]:
    rng = random.Random(seed)
    entries, recs = [], []
    for s in range(n_speakers):
        for k in range(rng.randint(1, 12)):
            entries.append(
                Entry(
                    f"u{s}-{k}",
                    "/x.wav",
                    0.0,
                    rng.uniform(1, 15),
                    "w",
                    "w",
                    f"s{s}",
                    rng.choice(["male", "female", None]),
                    "wol",
                    "src",
                    "CC0-1.0",
                )
            )
            recs.append(f"r{s}")
    return entries, recs


def test_speaker_split_is_disjoint_deterministic_and_near_the_shares():
    entries, recs = synthetic_entries()
    assign_splits(entries, recs, "speaker", dev=0.1, test=0.15, seed=3)
    first = [e.split for e in entries]
    assert not speaker_overlap(entries)
    total = sum(e.duration for e in entries)
    test_share = sum(e.duration for e in entries if e.split == "test") / total
    dev_share = sum(e.duration for e in entries if e.split == "dev") / total
    assert 0.15 <= test_share < 0.3 and 0.1 <= dev_share < 0.25
    assign_splits(entries, recs, "speaker", dev=0.1, test=0.15, seed=3)
    assert [e.split for e in entries] == first
    assign_splits(entries, recs, "speaker", dev=0.1, test=0.15, seed=4)
    assert [e.split for e in entries] != first


def test_card_totals_match_the_manifest(tmp_path):
    entries, recs = synthetic_entries(12)
    assign_splits(entries, recs, "speaker", seed=0)
    entries[0].foreign = [[0, "fra"]]
    manifest = tmp_path / "m.jsonl"
    write_manifest(manifest, entries)
    card = render_card(manifest, "synthetic")
    front = yaml.safe_load(card.split("---")[1])
    total = sum(e.duration for e in read_manifest(manifest))
    assert front["teranga_voice"]["utterances"] == len(entries)
    assert front["teranga_voice"]["duration_seconds"] == pytest.approx(total, abs=0.01)
    assert front["teranga_voice"]["speaker_disjoint"] is True
    splits = {s["name"]: s for s in front["dataset_info"]["splits"]}
    for name in ("train", "dev", "test"):
        es = [e for e in entries if e.split == name]
        assert splits[name]["num_examples"] == len(es)
        assert splits[name]["duration_seconds"] == pytest.approx(sum(e.duration for e in es), abs=0.01)
        assert splits[name]["speakers"] == len({e.speaker for e in es})
        row = next(line for line in card.splitlines() if line.startswith(f"| {name} | {len(es)} |"))
        assert f"| {hms(sum(e.duration for e in es))} |" in row
    total_row = next(line for line in card.splitlines() if line.startswith("| total |"))
    assert f"| {len(entries)} | {hms(total)} |" in total_row
    stats = manifest_stats(read_manifest(manifest))
    female = sum(e.duration for e in entries if e.gender == "female")
    assert stats["total"]["gender"]["female"]["seconds"] == pytest.approx(female, abs=0.01)
    assert stats["code_switching"]["tagged_words"] == 1
    assert front["license"] == ["cc0-1.0"] and "wo" in front["language"]


@pytest.mark.slow
def test_cli_ingest_stats_card(tmp_path):
    src = folder_corpus(tmp_path / "folder", speakers=3, per_speaker=1)
    out = tmp_path / "c.jsonl"
    proc = run_cli(
        "corpus",
        "ingest",
        "--format",
        "folder",
        str(src),
        "-o",
        str(out),
        "--lang",
        "wol",
        "--licence",
        "CC0-1.0",
        "--json",
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["written"] == 3
    proc = run_cli("corpus", "stats", str(out), "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["total"]["utterances"] == 3
    proc = run_cli("corpus", "card", str(out), "-o", str(tmp_path / "card.md"))
    assert proc.returncode == 0 and (tmp_path / "card.md").read_text().startswith("---\n")
    bad = run_cli("corpus", "ingest", "--format", "nope", str(src), "-o", str(out))
    assert bad.returncode == 2 and "unknown format" in bad.stderr and "Traceback" not in bad.stderr
