"""The on-disk embedding cache: exact round trips, keys that change with the model, and an
encoder that reads warm vectors instead of running the model."""

from __future__ import annotations

import numpy as np
import pytest

from alloop.models.cache import EmbeddingCache, model_key, text_hash


def test_put_then_get_returns_the_float16_vectors_and_a_mask(tmp_path):
    cache = EmbeddingCache(tmp_path, "m", 4)
    vectors = np.array([[0.1, 0.2, 0.3, 0.4], [1, 0, 0, 0]], dtype=np.float32)
    cache.put(["a", "b"], vectors)
    found, got = cache.get(["b", "zzz", "a", "b"])
    assert found.tolist() == [True, False, True, True]
    np.testing.assert_array_equal(got, vectors[[1, 0, 1]].astype(np.float16))
    assert len(cache) == 2
    other = EmbeddingCache(tmp_path, "another model", 4)  # same file, other key: nothing shared
    assert not other.get(["a"])[0].any()


def test_many_texts_cross_the_sqlite_parameter_limit(tmp_path):
    cache = EmbeddingCache(tmp_path, "m", 2)
    texts = [f"title {i}" for i in range(2500)]
    vectors = np.stack([np.arange(2500), -np.arange(2500)], axis=1).astype(np.float16)
    cache.put(texts, vectors)
    found, got = cache.get(texts[::-1])
    assert found.all()
    np.testing.assert_array_equal(got, vectors[::-1])


def test_keys_change_with_settings_and_with_the_weights_in_a_folder(tmp_path):
    assert text_hash("a") != text_hash("b") and len(text_hash("a")) == 16
    assert model_key("bert", 64) != model_key("bert", 128)
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "weights.bin").write_bytes(b"1234")
    before = model_key(str(folder), 64)
    (folder / "weights.bin").write_bytes(b"123456")  # saved again, same path
    assert model_key(str(folder), 64) != before


def test_an_unusable_cache_folder_is_one_clear_error(tmp_path):
    from alloop.errors import AlloopError

    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(AlloopError, match="`no_cache`"):
        EmbeddingCache(blocker / "sub", "m", 4)


@pytest.mark.slow
def test_a_second_encoder_reads_the_disk_instead_of_running_the_model(tmp_path, monkeypatch):
    from alloop.models import encoder as encoder_module
    from alloop.models.encoder import Encoder

    texts = ["usb c charging cable 1m", "cotton bath towel set", "usb c charging cable 1m", "steel bottle"]
    first = Encoder(max_length=32, cache_dir=tmp_path).embed(texts)
    assert first.dtype == np.float32 and first.shape == (4, 384)

    def forbidden(*args, **kwargs):
        raise AssertionError("the model ran although every vector was cached")

    monkeypatch.setattr(encoder_module, "encode", forbidden)
    second = Encoder(max_length=32, cache_dir=tmp_path)
    np.testing.assert_array_equal(second.embed(texts), first)  # bit-identical, warm or cold
    other_length = Encoder(max_length=16, cache_dir=tmp_path)
    with pytest.raises(AssertionError, match="model ran"):
        other_length.embed(texts[:1])  # another max_length is another key


@pytest.mark.slow
def test_the_in_memory_store_grows_by_blocks_without_mixing_rows(monkeypatch):
    from alloop.models import encoder as encoder_module
    from alloop.models.encoder import Encoder

    monkeypatch.setattr(encoder_module, "BLOCK", 4)
    encoder = Encoder(max_length=32)
    texts = [f"fake title {i}" for i in range(11)]
    vectors = np.arange(11 * 384, dtype=np.float32).reshape(11, 384) / 4096
    encoder._append(texts[:3], vectors[:3])
    encoder._append(texts[3:], vectors[3:])  # crosses two block boundaries
    assert len(encoder._blocks) == 3
    order = np.array([10, 0, 5, 4, 3, 9])
    np.testing.assert_array_equal(
        encoder._gather(np.array([encoder._row[texts[i]] for i in order])),
        vectors[order].astype(np.float16).astype(np.float32),
    )
