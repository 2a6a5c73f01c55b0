/** Dawn's start-up output: split from anything else written meanwhile, and summarised for doctor. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { splitDawnOutput, summariseDawnLog } from '../../src/backends/webgpu.js';

// As Dawn (webgpu 0.6.2) printed it on this machine, with an unrelated line in between.
const CAPTURED = `Warning: Couldn't load Vulkan: libvulkan.so.1: cannot open shared object file: No such file or directory
    at operator() (/home/runner/work/node-webgpu/node-webgpu/third_party/dawn/src/dawn/native/vulkan/BackendVk.cpp:368)

Error: something real went wrong
Warning: maxDynamicUniformBuffersPerPipelineLayout artificially reduced from 90 to 16 to fit dynamic offset allocation limit.
Warning: maxDynamicStorageBuffersPerPipelineLayout artificially reduced from 80 to 16 to fit dynamic offset allocation limit.
`;

test("Dawn's warnings and their source lines are held; anything else is kept to be printed", () => {
  const { messages, rest } = splitDawnOutput(CAPTURED);
  assert.equal(messages.length, 3);
  assert.match(messages[0]!, /^Couldn't load Vulkan: libvulkan\.so\.1/);
  assert.equal(rest, 'Error: something real went wrong\n');
  assert.deepEqual(splitDawnOutput(''), { messages: [], rest: '' });
});

test('the summary names the missing loader, the API Dawn ended on and the lowered limits', () => {
  const { messages } = splitDawnOutput(CAPTURED);
  assert.equal(
    summariseDawnLog([], messages, 'opengles'),
    'Dawn: no Vulkan loader (libvulkan.so.1), using OpenGL ES; limits lowered: maxDynamicUniformBuffersPerPipelineLayout 90→16, maxDynamicStorageBuffersPerPipelineLayout 80→16',
  );
  // lcconv's own note (Vulkan not tried) and Dawn's message say the same once.
  assert.equal(
    summariseDawnLog(['no Vulkan loader (libvulkan.so.1)'], messages.slice(0, 1), 'opengles'),
    'Dawn: no Vulkan loader (libvulkan.so.1), using OpenGL ES',
  );
  assert.equal(summariseDawnLog([], ['Some new warning'], undefined), 'Dawn: Some new warning, no adapter found');
  assert.equal(summariseDawnLog([], [], 'vulkan'), 'Dawn: using vulkan');
});

// What lavapipe (Mesa 22.3.6, Debian's mesa-vulkan-drivers) and Dawn wrote while Dawn probed
// Vulkan on this machine (the driver's lines and Dawn's error context reached the user's terminal;
// the warning went to doctor's summary), in the order written.
const LAVAPIPE = `error: XDG_RUNTIME_DIR is invalid or not set in the environment.
error: XDG_RUNTIME_DIR is invalid or not set in the environment.
Warning: Vulkan shaderUniform*ArrayDynamicIndexing required.
 - While initializing adapter (backend=BackendType::Vulkan)
    at InitializeImpl (/home/runner/work/node-webgpu/node-webgpu/third_party/dawn/src/dawn/native/vulkan/PhysicalDeviceVk.cpp:257)

`;

test("a Mesa driver's messages and Dawn's error context are held with Dawn's warnings, once each", () => {
  const { messages, rest } = splitDawnOutput(LAVAPIPE);
  assert.equal(rest, '', 'nothing of the probe reaches the terminal');
  assert.deepEqual(messages, [
    'XDG_RUNTIME_DIR is invalid or not set in the environment.',
    'Vulkan shaderUniform*ArrayDynamicIndexing required.',
  ]);
  assert.equal(
    splitDawnOutput(`${LAVAPIPE}Error: something real went wrong\n`).rest,
    'Error: something real went wrong\n',
  );
});
