"""`make demo`: the digits classifier trains offline on the shipped data and passes 0.95."""
import re

from tensorweave import demo


def test_demo_trains_a_digits_classifier_above_95_percent(capsys):
    accuracy = demo.main()
    out = capsys.readouterr().out
    assert accuracy > 0.95
    assert "Model: \"digits_classifier\"" in out and "Total params: 17,226" in out
    assert re.search(r"Epoch \d+: early stopping", out) or "Epoch 100/100" in out
    assert re.search(r"\d+/\d+ ━{20} \d+s \d+(us|ms)/step - accuracy: 0\.\d{4} - loss: "
                     r"\d\.\d{4} - val_accuracy: 0\.\d{4} - val_loss: \d\.\d{4}", out)
    assert f"test accuracy {accuracy:.4f}" in out
