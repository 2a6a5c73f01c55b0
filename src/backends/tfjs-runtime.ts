/**
 * tfjs as lcconv runs it: `@tensorflow/tfjs-core` plus what the `@tensorflow/tfjs` umbrella used to
 * register on import, without the umbrella's layers, converter, data and WebGL packages: the
 * pure-JS 'cpu' backend (also the base of 'cpu-native'), every op's gradient and the chained tensor
 * methods. Imported for its effects by the backend module and the model builder (every computation
 * builds a model), and by tests that run tf ops without either.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
// Built by scripts/bundle-tfjs-gradients.mjs (npm run build): tfjs-core ships these as ES modules
// Node cannot load directly. Relative to dist/src/backends/.
import '../../tfjs-gradients.mjs';

// PROD silences tfjs's console advice (the cpu backend's "Hi, looks like you are running
// TensorFlow.js in Node.js..." banner on its first tensor, "install tfjs-node"): which backend runs
// and why is lcconv's to report. Set here, on load, so it holds before any tensor exists.
tf.env().set('PROD', true);
