// Shape inference over a whole graph, through every op's prepare.
#pragma once

#include <vector>

#include "kernels/kernel.h"
#include "nnfi/graph.h"

namespace nnfi {

struct InferredValues {
  std::vector<kernels::TensorInfo> infos;  // one per graph value
  // Values computed at plan time: shape arithmetic whose inputs are all
  // constant (e.g. Shape -> Gather -> Concat -> Reshape). Float arithmetic on
  // constants is never folded: InjectTF injects into every executed op.
  std::vector<Tensor> folded;     // one per value; defined() if folded
  std::vector<bool> node_folded;  // one per node
};

// Infers every value's dtype and shape for concrete input shapes (one per
// graph input, all dims known). Nodes are visited in id order, so the graph
// must be topologically sorted.
Expected<InferredValues> infer_values(const Graph& graph, const std::vector<Shape>& input_shapes);

// Fills Value::dtype/shape for the declared input shapes. Dims unknown in the
// inputs are tried as 1 and as 2; output dims that differ become -1.
Status infer_graph_shapes(Graph& graph);

}  // namespace nnfi
