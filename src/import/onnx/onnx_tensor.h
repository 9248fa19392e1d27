// ONNX TensorProto and element types -> nnfi Tensor and DType.
#pragma once

#include <onnx/onnx_pb.h>

#include <cstdint>
#include <string>

#include "nnfi/dtype.h"
#include "nnfi/status.h"
#include "nnfi/tensor.h"

namespace nnfi::onnx_import {

// The ONNX name of a TensorProto.DataType ("FLOAT", "INT64", ...), for messages.
std::string onnx_dtype_name(int32_t data_type);

// The nnfi dtype of a graph value with this ONNX element type (FLOAT16 stays
// float16). An error naming the type where nnfi has no such dtype (DOUBLE,
// INT16, STRING, ...).
Expected<DType> dtype_from_onnx(int32_t data_type);

// Converts a TensorProto (raw_data or the typed *_data fields) to a Tensor.
// FLOAT, INT32, INT64, INT8, UINT8 and BOOL keep their type; DOUBLE, FLOAT16
// and BFLOAT16 become float32, the type nnfi computes in. External data and
// other types are errors naming the tensor.
Expected<Tensor> tensor_from_onnx(const onnx::TensorProto& proto);

// IEEE half and bfloat16 bit patterns to float (NaN, Inf, subnormals kept).
float half_to_float(uint16_t bits);
float bfloat16_to_float(uint16_t bits);

}  // namespace nnfi::onnx_import
