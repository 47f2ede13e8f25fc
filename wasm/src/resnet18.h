// resnet18.h -- torchvision's ResNet18 (2 classes), written once: every convolution with its blob
// tensor name, its torchvision names, its shape, and where it sits in the graph (stage, block,
// role, the activations it reads and writes). The blob reader checks a model against it
// (blob.cpp), the converter reads the torchvision tensors by it (converter/convert.cpp) and the
// engine wires its buffers by it (engine.cpp).
//
// Usage:
//   for (const mc::resnet18::ConvSpec& c : mc::resnet18::convs())
//     printf("%s: %d -> %d, %dx%d/%d, reads %s\n", c.name, c.in_c, c.out_c, c.k, c.k, c.stride,
//            mc::resnet18::act_name(c.in));
//   int producer = mc::resnet18::conv_inputs()[i];   // whose output conv i reads (-1: the image)
//
// The graph (BatchNorm folded into the convolutions):
//   image -> stem conv 7x7/2 + ReLU -> max pool 3x3/2 pad 1 -> 4 stages x 2 basic blocks
//         -> global average pool -> fc (512 -> 2)
//   basic block: out = ReLU(conv2(ReLU(conv1(in))) + shortcut), shortcut = downsample(in), a 1x1/2
//   conv, in block 0 of stages 2-4, else in itself
#pragma once
#include <cstdint>
#include <vector>

namespace mc {
namespace resnet18 {

constexpr int kClasses = 2;
constexpr int kFeatures = 512;  // channels of the last stage: the fc's inputs
constexpr int kStemChannels = 64;
constexpr int kStages = 4;
constexpr int kBlocksPerStage = 2;
constexpr int kBlocks = kStages * kBlocksPerStage;
constexpr int kConvs = 20;  // convs().size(): the stem, 2 per block, 3 downsamples
constexpr int kPoolSize = 3, kPoolStride = 2, kPoolPad = 1;  // the max pool after the stem
constexpr const char* kFcWeight = "fc.weight";               // [kClasses, kFeatures], row-major
constexpr const char* kFcBias = "fc.bias";                   // [kClasses]
// Format version 2 blobs with an "mlp" head (blob.h Head): fc1 [H, F] -> ReLU -> fc2 [N, H].
constexpr const char* kHeadFc1Weight = "head.fc1.weight";
constexpr const char* kHeadFc1Bias = "head.fc1.bias";
constexpr const char* kHeadFc2Weight = "head.fc2.weight";
constexpr const char* kHeadFc2Bias = "head.fc2.bias";

// What a convolution is in the graph.
enum class Role : uint8_t { Stem, Conv1, Conv2, Downsample };

// The activations a convolution reads and writes, named by what they hold. The max pool turns
// the stem's output into block 0's input; each block's output is the next block's input.
enum class Act : uint8_t {
  None,      // (residual) nothing is added
  Image,     // the network input, S x S x 3
  Stem,      // the stem's output, the max pool's input
  BlockIn,   // the input of the current block
  Mid,       // conv1's output inside a block
  Shortcut,  // the downsample's output
  BlockOut,  // the block's output: conv2 + shortcut, ReLU
};
const char* act_name(Act a);  // "image", "stem", "block input", ...

struct ConvSpec {
  const char* name;  // blob tensor name, e.g. "layer2.0.downsample"
  int stage;         // 0: the stem; 1..4: layer1..layer4
  int block;         // 0..1 in its stage
  Role role;
  int out_c, in_c, k, stride, pad;
  Act in, out;   // the activation read and the one written
  Act residual;  // added before the ReLU (conv2), or None
  bool relu;
  const char* torch_conv;  // e.g. "layer2.0.downsample.0" (+ ".weight")
  const char* torch_bn;    // e.g. "layer2.0.downsample.1" (+ ".weight", ".bias", ...)

  int block_index() const { return (stage - 1) * kBlocksPerStage + block; }  // 0..7 (not stem)
};

// The 20 convolutions in blob order (torchvision's state_dict order: a block's downsample comes
// after its conv2; the engine runs it first).
const std::vector<ConvSpec>& convs();

// For each entry of convs(): the index of the convolution whose output is its input (through
// the max pool for block 0), or -1 for the image. In int8 blobs each conv's input quantization
// equals the output quantization of that producer.
const std::vector<int>& conv_inputs();

}  // namespace resnet18
}  // namespace mc
