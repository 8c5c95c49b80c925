/**
 * models: everything that turns features into click probabilities. It owns feature encoding
 * (field-aware hashing, numeric bins, crosses), the learners (FTRL-Proximal logistic regression;
 * FM, FFM, GBDT and DCN-v2 join it behind the same factory), offline metrics (AUC, logloss, NE,
 * calibration, per segment) and progressive validation, post-hoc calibration with the negative
 * downsampling correction, and the binary artifact format. Models score columnar RawBatches and
 * carry their encoding and calibration in their artifact, so serving encodes exactly as training did.
 */
export type { Artifact, ArtifactHeader, FitOptions, FitReport, Learner, Model, OnlineLearner } from './model.ts';
export { isOnlineLearner } from './model.ts';
export { explainRows, isExplainable, type ExplainableModel, type FeatureContribution } from './explain.ts';
export { encodeArtifact, decodeArtifact } from './artifact.ts';
export { createLearner, learnerParamNames, loadModel, modelFromArtifact, parseParamPairs, isLearnerKind, LEARNER_KINDS } from './factory.ts';
export type { LearnerKind } from './factory.ts';
export { FtrlLearner, FtrlParams } from './learners/ftrl.ts';
export { HashedModel } from './hashed-model.ts';
export { FeatureEncoder } from './encoding/encoder.ts';
export type { EncodedBatch } from './encoding/encoder.ts';
export { EncodingParams, EncodingSpec } from './encoding/encoding-spec.ts';
export { auc, logloss, entropy, evaluate, evaluateBySegment, reliability } from './metrics/metrics.ts';
export type { Metrics, ReliabilityBucket, Scores } from './metrics/metrics.ts';
export { ProgressiveValidator } from './metrics/progressive.ts';
export { Calibrator, CalibrationSpec, CALIBRATION_METHODS, correctDownsampling, fitCalibration, fitIsotonic, fitPlatt, NO_CALIBRATION } from './calibration.ts';
export type { CalibrationMethod } from './calibration.ts';
export { evaluateModel, scoreSource } from './evaluate.ts';
export type { ScoredSet } from './evaluate.ts';
export { trainModel } from './training/train-model.ts';
export type { CalibratedLearner, TrainModelOptions, TrainModelReport } from './training/train-model.ts';
export { downsampleNegatives } from './training/downsample.ts';
export type { AsyncModel } from './model.ts';
export { isAsyncModel } from './model.ts';
export { DcnLearner, DcnParams } from './learners/dcn/dcn.ts';
export { OnnxModel, ONNX_KIND } from './onnx/onnx-model.ts';
export { OnnxFeatureSpec, parseOnnxSpec } from './onnx/feature-spec.ts';
export { FeedBuilder } from './onnx/feeds.ts';
export type { Feed } from './onnx/feeds.ts';
export { onnxArtifactFromFiles } from './onnx/import-files.ts';
export { GbdtLearner } from './learners/gbdt/gbdt.ts';
export type { GbdtFitReport } from './learners/gbdt/gbdt.ts';
export { GbdtParams } from './learners/gbdt/params.ts';
export { gbdtTrainingMatrices } from './learners/gbdt/training-matrix.ts';
export type { FeatureMatrix } from './learners/gbdt/training-matrix.ts';
export { GbdtLrLearner, GbdtLrParams } from './learners/gbdt-lr.ts';
export { FmLearner, FmParams } from './learners/fm.ts';
export { FfmLearner, FfmParams } from './learners/ffm.ts';
export { FactorizationModel, FactorizationParams } from './learners/factorization.ts';
export { EmbeddingTable, EMBEDDING_INITS, InitSpec } from './embeddings.ts';
export type { EmbeddingInit, EmbeddingTableOptions } from './embeddings.ts';
export { AdaGrad, AdaGradParams, FtrlStep, FtrlStepParams, SparseGradient } from './optimizers.ts';
export type { Optimizer } from './optimizers.ts';
