"""The reference loop, written the way the seed's is: the baseline alloop is measured against.

What makes it the seed's: the stock ``AutoModelForSequenceClassification`` head, every title padded
to ``max_length=128``, tokenised one item at a time inside a torch ``Dataset`` on every pass, batches
of 32 in pool order, lr 5e-5 (the transformers default), 3 epochs, gradients off at inference. It
follows alloop's classifier protocol (``fit(texts, labels)``, ``predict_proba(texts)``) so the same
bench drives it. It is a baseline, not a model to copy.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset


class TitleDataset(Dataset):
    """Tokenises item ``i`` when it is fetched, padded to max_length, as the seed's dataset does."""

    def __init__(self, texts: Sequence[str], labels: np.ndarray | None, tokenizer, max_length: int = 128):
        self.texts, self.labels, self.tokenizer, self.max_length = list(texts), labels, tokenizer, max_length

    def __len__(self) -> int:
        return len(self.texts)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        encoded = self.tokenizer(
            self.texts[i],
            padding="max_length",
            truncation=True,
            max_length=self.max_length,
            return_tensors="pt",
        )
        item = {k: v.squeeze(0) for k, v in encoded.items()}
        if self.labels is not None:
            item["labels"] = torch.tensor(int(self.labels[i]))
        return item


class SeedStyleClassifier:
    """Fine-tunes the stock sequence-classification head from the pretrained weights."""

    def __init__(
        self,
        model_path: str,
        n_classes: int,
        seed: int = 0,
        epochs: int = 3,
        lr: float = 5e-5,
        batch_size: int = 32,
        max_length: int = 128,
    ):
        from transformers import AutoTokenizer

        self.model_path, self.n_classes, self.seed = model_path, n_classes, seed
        self.epochs, self.lr, self.batch_size, self.max_length = epochs, lr, batch_size, max_length
        self.tokenizer = AutoTokenizer.from_pretrained(model_path)
        self.model = None

    def fit(self, texts: Sequence[str], labels: np.ndarray) -> SeedStyleClassifier:
        from transformers import AutoModelForSequenceClassification

        torch.manual_seed(self.seed)
        self.model = AutoModelForSequenceClassification.from_pretrained(
            self.model_path, num_labels=self.n_classes
        )
        dataset = TitleDataset(texts, labels, self.tokenizer, self.max_length)
        loader = DataLoader(dataset, batch_size=self.batch_size, shuffle=True)
        optimizer = torch.optim.AdamW(self.model.parameters(), lr=self.lr)
        self.model.train()
        for _ in range(self.epochs):
            for batch in loader:
                loss = self.model(**batch).loss
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
        return self

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        loader = DataLoader(
            TitleDataset(texts, None, self.tokenizer, self.max_length), batch_size=self.batch_size
        )
        self.model.eval()
        out = []
        with torch.no_grad():
            for batch in loader:
                out.append(torch.softmax(self.model(**batch).logits, dim=-1).numpy())
        return np.concatenate(out).astype(np.float64)
