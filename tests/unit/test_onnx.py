"""``--precision int8``: frozen embeddings from an int8 ONNX Runtime export of the encoder."""

from __future__ import annotations

import builtins
from pathlib import Path

import numpy as np
import pytest

from alloop.errors import AlloopError

# real-looking amazon.in titles, lengths from 3 to 32 tokens, so batches are padded
TITLES = [
    "WMK Fashionable Ballet Flats lace up RAIN Shoes Bellies for Women",
    "Treo By Milton Cube Storage Glass Jar, 1 Piece, 1000 ml, Transparent | BPA Free | Storage Jar",
    "Meat Up Munchy Sticks, Chicken Flavour, Dog Treats For All Life Stages, 400g (Buy 1 Get 1 Free)",
    "Magformers Set, Multi Color (26 Pieces)",
    "Li-Ning Super Series 2020 - (Strung) Badminton Racquets with Free Full Cover, Black/Gold",
    "Samsung Galaxy M14 5G (Smoky Teal, 6GB, 128GB Storage)",
    "Prestige Iris 750 Watt Mixer Grinder with 3 Stainless Steel Jars",
    "boAt Rockerz 255 Pro+ Bluetooth Neckband with Upto 40 Hours Playback",
    "Catchex Multimeter Cord Probe Set Test Cable Pair for Universal Digital Multi Meter",
    "pen",
    "FUNEX Moisture Wicking Non-Slip Exercise Cotton Headband for Men and Women (Pack of 2)",
]


@pytest.fixture(scope="module")
def int8_encoder(tmp_path_factory):
    from alloop.models import Encoder

    return Encoder(max_length=32, precision="int8", cache_dir=tmp_path_factory.mktemp("int8"))


@pytest.mark.slow
def test_int8_embeddings_stay_close_to_fp32(encoder, int8_encoder):
    fp32 = encoder.embed(TITLES)  # the session encoder: fp32, max_length 32, no disk cache
    int8 = int8_encoder.embed(TITLES)
    cosine = (fp32 * int8).sum(axis=1)
    # measured 0.989-0.995 (mean 0.993) on these titles, onnxruntime 1.32 on an AVX512-VNNI CPU;
    # 0.94-0.97 before weights were quantised per channel
    assert cosine.min() > 0.98
    assert cosine.mean() > 0.99
    assert not np.array_equal(fp32, int8)  # the int8 graph really ran
    np.testing.assert_allclose(np.linalg.norm(int8, axis=1), 1.0, atol=2e-3)  # float16-rounded unit vectors


@pytest.mark.slow
def test_int8_does_not_depend_on_batch_composition(int8_encoder):
    """Dynamic axes: one title alone (batch 1, its own length) gives nearly what it got in a padded
    batch. Not exactly: activations are quantised with one scale per batch, so a title's vector
    depends a little on its batch-mates (measured cosine 0.989-0.994; fp32 torch: 1 - 1e-7)."""
    from alloop.models.encoder import encode

    together = encode(int8_encoder, int8_encoder.model, TITLES)
    alone = np.stack([encode(int8_encoder, int8_encoder.model, [t])[0] for t in TITLES[:3]])
    assert ((together[:3] * alone).sum(axis=1)).min() > 0.98


@pytest.mark.slow
def test_int8_export_is_reused_and_cached_apart_from_fp32(tmp_path, monkeypatch):
    from alloop.models import Encoder, onnx
    from alloop.models.cache import EmbeddingCache

    first = Encoder(max_length=32, precision="int8", cache_dir=tmp_path)
    vectors = first.embed(TITLES[:4])
    files = list((tmp_path / "onnx").glob("*.int8.onnx"))
    assert len(files) == 1
    assert not [p for p in (tmp_path / "onnx").iterdir() if p.name.startswith(".export-")]

    def no_export(*args: object, **kwargs: object) -> Path:
        raise AssertionError("export_int8 called again although the file is cached")

    monkeypatch.setattr(onnx, "export_int8", no_export)
    second = Encoder(max_length=32, precision="int8", cache_dir=tmp_path)
    second.cache = None  # compute, do not read the vectors the first run stored
    np.testing.assert_array_equal(second.embed(TITLES[:4]), vectors)
    assert second.ort_session().path == files[0]

    # int8 vectors live under their own key: an fp32 run never reads them
    fp32 = Encoder(max_length=32, cache_dir=tmp_path)
    assert fp32.cache is not None and first.cache is not None
    assert fp32.cache.key != first.cache.key
    assert len(first.cache) == 4
    assert len(EmbeddingCache(tmp_path, fp32.cache.key, fp32.hidden_size)) == 0


@pytest.mark.slow
def test_fine_tuned_module_still_runs_in_torch(int8_encoder, monkeypatch):
    """Only the frozen pretrained weights go through ONNX Runtime."""
    from alloop.models.encoder import encode

    monkeypatch.setattr(int8_encoder, "ort_session", lambda: pytest.fail("ORT used for a fine-tuned module"))
    got = encode(int8_encoder, int8_encoder.fresh_copy(), TITLES[:3])
    assert got.shape == (3, int8_encoder.hidden_size)


def test_int8_without_onnxruntime_is_one_clear_error(monkeypatch):
    from alloop.models import onnx

    real_import = builtins.__import__

    def fake_import(name: str, *args: object, **kwargs: object) -> object:
        if name == "onnxruntime" or name.startswith("onnxruntime."):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    message = r"`precision` int8 needs onnxruntime; pip install 'alloop\[onnx\]'"
    with pytest.raises(AlloopError, match=message):
        onnx.import_onnxruntime()


def test_int8_is_a_known_precision():
    from alloop.models import ModelConfig
    from alloop.models.encoder import PRECISIONS

    assert "int8" in PRECISIONS
    assert ModelConfig(precision="int8").validate().precision == "int8"


@pytest.mark.slow
def test_the_int8_export_leaves_the_root_logger_alone(encoder, tmp_path, monkeypatch, capfd):
    """quantize_dynamic advises pre-processing through the root logger, which (with no handler yet,
    as in a plain script) installs a stderr handler for the whole process: alloop pre-processes
    instead, and never touches the root logger."""
    import logging

    from alloop.models.onnx import export_int8

    root = logging.getLogger()
    touched: list[object] = []
    monkeypatch.setattr(root, "handlers", [])
    monkeypatch.setattr(root, "addHandler", touched.append)
    monkeypatch.setattr(root, "setLevel", touched.append)
    assert export_int8(encoder.model, tmp_path, "probe").exists()
    assert touched == [] and root.handlers == []
    assert "pre-processing" not in capfd.readouterr().err
