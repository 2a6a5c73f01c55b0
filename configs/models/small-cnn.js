// Your own network in lcconv (model.arch: ./configs/models/small-cnn.js; docs/architectures.md).
// lcconv runs this file as a plain script: `module.exports` is a function build(kit, spec) that
// creates the layers from the kit and returns the forward pass. Every k×k conv is a
// kit.spatialConv, so model.kernel_size, model.lc_expansion and `freeze` (learned, frozen, shared)
// apply to them as to the built-in architectures; 1×1 convs, BatchNorm and the classifier are learned.
// Layer names name the weights (checkpoints, analysis, export) and must be unique.
module.exports = function build(kit, spec) {
  const { tf } = kit;
  const W = spec.width;

  // conv → BN → ReLU, with a k×k conv from lcconv's factory.
  const convBnRelu = (name, inChannels, outChannels, stride = 1) => {
    const conv = kit.spatialConv(`${name}.conv`, inChannels, outChannels, { stride });
    const bn = kit.batchNorm(`${name}.bn`, outChannels);
    return (x, training) => tf.relu(bn(conv(x, training), training));
  };

  // A residual block that halves the map and doubles the channels; a learned 1×1 shortcut.
  const downBlock = (name, inChannels, outChannels) => {
    const first = convBnRelu(`${name}.a`, inChannels, outChannels, 2);
    const second = kit.spatialConv(`${name}.b.conv`, outChannels, outChannels);
    const bn = kit.batchNorm(`${name}.b.bn`, outChannels);
    const shortcut = kit.pointwiseConv(`${name}.shortcut`, inChannels, outChannels, { stride: 2 });
    return (x, training) => tf.relu(tf.add(bn(second(first(x, training), training), training), shortcut(x, training)));
  };

  const features = kit.sequential([
    convBnRelu('stem', spec.inChannels, W),
    downBlock('block1', W, 2 * W),
    downBlock('block2', 2 * W, 4 * W),
  ]);
  const classifier = kit.linear('fc', 4 * W, spec.numClasses);

  return (x, training) => classifier(kit.globalAvgPool(features(x, training)));
};
