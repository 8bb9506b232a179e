"""One-hot inputs: the sparse kernel path (info['active']) is bit-identical to the dense computation."""

import numpy as np
import pytest
from reference.batches import one_hot_batch

from lstm97.models.lstm import LSTM
from lstm97.tasks import SequenceBatch

#: The JIT-off CI step runs these (NUMBA_DISABLE_JIT=1 pytest -m kernel).
pytestmark = pytest.mark.kernel


@pytest.mark.parametrize("connectivity", ["F", "B"])
@pytest.mark.parametrize("output_gate", [True, False])
@pytest.mark.parametrize("update", ["step", "sequence"])
@pytest.mark.parametrize("bias", ["none", "all"])
def test_sparse_equals_dense(connectivity, output_gate, update, bias):
    rng = np.random.default_rng(7)
    n_in, n_out = 9, 3
    model = LSTM.for_dims(
        n_in,
        n_out,
        blocks=2,
        block_size=2,
        connectivity=connectivity,
        output_gate=output_gate,
        bias=bias,
        update=update,
        lr=0.7,
        init=1.0,
    )
    sparse = one_hot_batch(rng, 12, n_in, n_out, 15)
    dense = SequenceBatch(sparse.inputs, sparse.targets, sparse.mask, sparse.lengths)
    s1 = model.init_state(np.random.default_rng(1))
    s2 = model.init_state(np.random.default_rng(1))
    r1 = model.train_chunk(s1, sparse)
    r2 = model.train_chunk(s2, dense)
    np.testing.assert_array_equal(r1.outputs, r2.outputs)
    np.testing.assert_array_equal(s1.w, s2.w)
    np.testing.assert_array_equal(model.predict(s1, sparse), model.predict(s2, dense))
