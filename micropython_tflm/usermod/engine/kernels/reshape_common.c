#include "reshape_common.h"

tflm_status tflm_reshape_prepare(tflm_interpreter *it, tflm_node *node) {
    const tflm_tensor *input = tflm_node_input(it, node, 0);
    const tflm_tensor *output = tflm_node_output(it, node, 0);
    if (!input || !output) {
        return tflm_fail(it, TFLM_ERROR_MODEL, "needs an input and an output");
    }
    tflm_status st = tflm_expect(it, output, input->type, "output");
    if (st == TFLM_OK && tflm_elements(it, input) != tflm_elements(it, output)) {
        st = tflm_fail(it, TFLM_ERROR_MODEL, "input has %u elements, output %u",
            (unsigned)tflm_elements(it, input), (unsigned)tflm_elements(it, output));
    }
    return st;
}

tflm_status tflm_reshape_prepare_dims(tflm_interpreter *it, tflm_node *node, const int32_t *dims, int count) {
    tflm_status st = tflm_reshape_prepare(it, node);
    if (st != TFLM_OK) {
        return st;
    }
    const tflm_tensor *output = tflm_node_output(it, node, 0);
    bool same = output->rank == count;
    for (int i = 0; same && i < count; i++) {
        same = tflm_dim(it, output, i) == dims[i];
    }
    return same ? TFLM_OK : tflm_fail(it, TFLM_ERROR_MODEL, "output shape does not follow from the input's");
}

void tflm_reshape_eval(const tflm_interpreter *it, const tflm_node *node) {
    const tflm_tensor *input = tflm_node_input(it, node, 0);
    const void *in = tflm_data(it, input);
    void *out = tflm_data(it, tflm_node_output(it, node, 0));
    if (in != out) {
        tflm_copy(out, in, tflm_bytes(it, input));
    }
}
