/**
 * An ONNX model file plus its feature-spec file, checked and packed as a pctr artifact: the spec
 * parses, ONNX Runtime opens the model, and its inputs and output are the ones the spec names.
 * Used by `pctr models import-onnx` before it registers the bytes.
 */
import { readFile } from 'node:fs/promises';
import { errorMessage, PctrError } from '../../core/index.ts';
import { encodeArtifact } from '../artifact.ts';
import { parseOnnxSpec } from './feature-spec.ts';
import { OnnxModel } from './onnx-model.ts';

export async function onnxArtifactFromFiles(modelPath: string, specPath: string): Promise<{ model: OnnxModel; artifact: Uint8Array }> {
  const readOrFail = async (path: string, what: string): Promise<Buffer> => {
    try {
      return await readFile(path);
    } catch (e) {
      throw new PctrError('PCTR_VALIDATION', `cannot read the ${what} ${path}: ${errorMessage(e)}`, { cause: e });
    }
  };
  const [bytes, specText] = await Promise.all([readOrFail(modelPath, 'ONNX model'), readOrFail(specPath, 'feature spec')]);
  let raw: unknown;
  try {
    raw = JSON.parse(specText.toString('utf8'));
  } catch (e) {
    throw new PctrError('PCTR_VALIDATION', `feature spec ${specPath} is not JSON: ${errorMessage(e)}`, { cause: e });
  }
  const model = new OnnxModel(parseOnnxSpec(raw, `feature spec ${specPath}`), new Uint8Array(bytes));
  try {
    await model.ready();
  } finally {
    await model.close();
  }
  return { model, artifact: encodeArtifact(model.toArtifact()) };
}
