// resnet18.cpp -- the table of resnet18.h.
#include "resnet18.h"

#include <cstddef>

namespace mc {
namespace resnet18 {

const char* act_name(Act a) {
  switch (a) {
    case Act::None: return "none";
    case Act::Image: return "image";
    case Act::Stem: return "stem output";
    case Act::BlockIn: return "block input";
    case Act::Mid: return "block conv1 output";
    case Act::Shortcut: return "shortcut";
    case Act::BlockOut: return "block output";
  }
  return "?";
}

const std::vector<ConvSpec>& convs() {
  constexpr Role Conv1 = Role::Conv1, Conv2 = Role::Conv2, Downsample = Role::Downsample;
  constexpr Act None = Act::None, Image = Act::Image, BlockIn = Act::BlockIn, Mid = Act::Mid,
                Shortcut = Act::Shortcut, BlockOut = Act::BlockOut;
  // one convolution per entry, on two lines
  // clang-format off
  static const std::vector<ConvSpec> table = {
      // name, stage, block, role, out_c, in_c, k, stride, pad, in, out, residual, relu,
      //   torch_conv, torch_bn
      {"conv1", 0, 0, Role::Stem, 64, 3, 7, 2, 3, Image, Act::Stem, None, true,
       "conv1", "bn1"},
      {"layer1.0.conv1", 1, 0, Conv1, 64, 64, 3, 1, 1, BlockIn, Mid, None, true,
       "layer1.0.conv1", "layer1.0.bn1"},
      {"layer1.0.conv2", 1, 0, Conv2, 64, 64, 3, 1, 1, Mid, BlockOut, BlockIn, true,
       "layer1.0.conv2", "layer1.0.bn2"},
      {"layer1.1.conv1", 1, 1, Conv1, 64, 64, 3, 1, 1, BlockIn, Mid, None, true,
       "layer1.1.conv1", "layer1.1.bn1"},
      {"layer1.1.conv2", 1, 1, Conv2, 64, 64, 3, 1, 1, Mid, BlockOut, BlockIn, true,
       "layer1.1.conv2", "layer1.1.bn2"},
      {"layer2.0.conv1", 2, 0, Conv1, 128, 64, 3, 2, 1, BlockIn, Mid, None, true,
       "layer2.0.conv1", "layer2.0.bn1"},
      {"layer2.0.conv2", 2, 0, Conv2, 128, 128, 3, 1, 1, Mid, BlockOut, Shortcut, true,
       "layer2.0.conv2", "layer2.0.bn2"},
      {"layer2.0.downsample", 2, 0, Downsample, 128, 64, 1, 2, 0, BlockIn, Shortcut, None, false,
       "layer2.0.downsample.0", "layer2.0.downsample.1"},
      {"layer2.1.conv1", 2, 1, Conv1, 128, 128, 3, 1, 1, BlockIn, Mid, None, true,
       "layer2.1.conv1", "layer2.1.bn1"},
      {"layer2.1.conv2", 2, 1, Conv2, 128, 128, 3, 1, 1, Mid, BlockOut, BlockIn, true,
       "layer2.1.conv2", "layer2.1.bn2"},
      {"layer3.0.conv1", 3, 0, Conv1, 256, 128, 3, 2, 1, BlockIn, Mid, None, true,
       "layer3.0.conv1", "layer3.0.bn1"},
      {"layer3.0.conv2", 3, 0, Conv2, 256, 256, 3, 1, 1, Mid, BlockOut, Shortcut, true,
       "layer3.0.conv2", "layer3.0.bn2"},
      {"layer3.0.downsample", 3, 0, Downsample, 256, 128, 1, 2, 0, BlockIn, Shortcut, None, false,
       "layer3.0.downsample.0", "layer3.0.downsample.1"},
      {"layer3.1.conv1", 3, 1, Conv1, 256, 256, 3, 1, 1, BlockIn, Mid, None, true,
       "layer3.1.conv1", "layer3.1.bn1"},
      {"layer3.1.conv2", 3, 1, Conv2, 256, 256, 3, 1, 1, Mid, BlockOut, BlockIn, true,
       "layer3.1.conv2", "layer3.1.bn2"},
      {"layer4.0.conv1", 4, 0, Conv1, 512, 256, 3, 2, 1, BlockIn, Mid, None, true,
       "layer4.0.conv1", "layer4.0.bn1"},
      {"layer4.0.conv2", 4, 0, Conv2, 512, 512, 3, 1, 1, Mid, BlockOut, Shortcut, true,
       "layer4.0.conv2", "layer4.0.bn2"},
      {"layer4.0.downsample", 4, 0, Downsample, 512, 256, 1, 2, 0, BlockIn, Shortcut, None, false,
       "layer4.0.downsample.0", "layer4.0.downsample.1"},
      {"layer4.1.conv1", 4, 1, Conv1, 512, 512, 3, 1, 1, BlockIn, Mid, None, true,
       "layer4.1.conv1", "layer4.1.bn1"},
      {"layer4.1.conv2", 4, 1, Conv2, 512, 512, 3, 1, 1, Mid, BlockOut, BlockIn, true,
       "layer4.1.conv2", "layer4.1.bn2"},
  };
  // clang-format on
  return table;
}

const std::vector<int>& conv_inputs() {
  static const std::vector<int> inputs = [] {
    const std::vector<ConvSpec>& c = convs();
    std::vector<int> r(c.size(), -1);
    int writer[int(Act::BlockOut) + 1];  // per Act: the conv that wrote it last
    for (int& w : writer) w = -1;
    int stage = 0, block = 0;
    for (size_t i = 0; i < c.size(); ++i) {
      if (c[i].stage != stage || c[i].block != block) {  // a new block: its input
        writer[int(Act::BlockIn)] = writer[int(stage == 0 ? Act::Stem : Act::BlockOut)];
        stage = c[i].stage;
        block = c[i].block;
      }
      r[i] = writer[int(c[i].in)];
      writer[int(c[i].out)] = int(i);
    }
    return r;
  }();
  return inputs;
}

}  // namespace resnet18
}  // namespace mc
