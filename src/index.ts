/**
 * The public API of the SQSNN engine, in groups (README: Library API; Extending). Everything an
 * application or an extension (a new neuron kind, gate, dataset or learning rule) needs is here;
 * the rest of the tree (complex-pair arithmetic, the fused kernels, CLI plumbing) is internal and
 * may change without notice.
 */

// --- backend: pick and report the tfjs backend ------------------------------------------------
export { initBackend, currentBackend, BackendError } from './backend';
export type { BackendName, BackendReport } from './backend';

// --- kernels: pure functions on tensors (layout [rows, …, samples]) ----------------------------
export { tf, tidy } from '../kernels/tf';
export type { Tensor } from '../kernels/tf';
export type { Complex } from '../kernels/complex';
export { GATES, GATE_LIST, defineGate, TWO_TERM, FOUR_TERM } from '../kernels/gates';
export type { GateEntry, GateName, Matrix2, QasmInstruction, ShiftRule } from '../kernels/gates';
export { compileCircuit, paperCircuit, hardwareEfficientCircuit, CircuitError } from '../kernels/circuit';
export type { Circuit, CircuitSpec, GateOp } from '../kernels/circuit';
export { circuitUnitary, evolveGates } from '../kernels/evolve';
export { sqsStep } from '../kernels/statevector';
export type { Surrogate } from '../kernels/statevector';
export { densityStep, NoiseError } from '../kernels/density';
export type { NoiseSpec } from '../kernels/density';
export { shiftTable } from '../kernels/shift';
export { sqsStepOp, configureSqsStep } from '../kernels/sqs-step';
export type { SqsStepInput, SqsStepOutput, SqsStepOptions } from '../kernels/sqs-step';
export { synapseCurrents } from '../kernels/synapse';
export { MemoryBudgetError, memoryLimit, setMemoryBudget, restoreMemoryBudget } from '../kernels/memory';

// --- neurons: layers behind one interface, and the registry of kinds -------------------------
export type {
  NeuronLayer, StepContext, StepResult, ForcedResult, Eligibility, LocalOptions,
  NeuronKind, LayerConfig, LayerShape, ExecutionCount,
} from './neurons/layer';
export { countParams } from './neurons/layer';
export { NEURON_KINDS, neuronKinds, neuronKind, createLayer } from './neurons/registry';
export { SqsLayer, sqsNeuron, sqsCompatNeuron } from './neurons/sqs';
export type { SqsLayerConfig, MemoryCarry } from './neurons/sqs';
export { QlifLayer, qlifNeuron } from './neurons/qlif';
export type { QlifLayerConfig } from './neurons/qlif';
export { LifLayer, lifNeuron, heavisideSurrogate } from './neurons/lif';
export type { LifLayerConfig } from './neurons/lif';
export { ProbLayer, probNeuron } from './neurons/probabilistic';
export type { ProbLayerConfig } from './neurons/probabilistic';
export type { ThetaInit } from './neurons/init';
export { StatefulLayer } from './neurons/stateful';
export { Rng } from './random';

// --- one neuron from a JSON spec: simulate, trace, gradients --------------------------------
export { parseNeuronSpec, circuitFromAnsatz, SpecError } from './spec';
export type { NeuronSpec, ParsedNeuronSpec, AnsatzSpec } from './spec';
export { NeuronSimulator } from './neuron-sim';
export type { NeuronSimOptions, NeuronSimStep, PureStepArgs } from './neuron-sim';
export { traceNeuron } from './trace';
export type { NeuronTrace } from './trace';
export { neuronGradients } from './neuron-grad';
export type { NeuronGradients, GradOptions } from './neuron-grad';

// --- network: layers + synapses + readout, parameter budgets ----------------------------------
export { Network, predict } from './network';
export type { NetworkConfig } from './network';
export { countParameters, parameterBreakdown, sizeHidden, matchBudget } from './budget';
export { executionsPerInference } from './executions';

// --- training: runs, rules and their registry, checkpoints, experiments -----------------------
export { trainRun, evaluate, networkFromCheckpoint, layeredNetwork } from './train';
export type { TrainConfig, EpochMetrics, EvalResult, BatchProgress, RunOptions, RunResult } from './train';
export { LEARNING_RULES, ruleNames, createRule } from './learn/registry';
export type { LearningRule, RuleConfig, RuleKind } from './learn/registry';
export { bpttRule, bpttGradients } from './learn/bptt';
export type { BatchResult } from './learn/bptt';
export { localRule, LocalRule } from './learn/local';
export type { LocalConfig } from './learn/local';
export { Optimizer } from './learn/optimizer';
export type { OptimizerConfig } from './learn/optimizer';
export { recipeFor } from './recipes';
export { saveCheckpoint, loadCheckpoint, CheckpointError } from './checkpoint';
export { runExperiment } from './experiment';
export type { ExperimentConfig } from './experiment';
export { assertTrainingFits, trainingMemory } from './limits';

// --- data: the dataset registry, encodings, file readers ---------------------------------------
export { DATASETS, datasetNames, datasetKind, loadDataset, DataError } from './data';
export type { Dataset, DatasetKind, LoadOptions } from './data';
export { rateEncode, imagesToEventTensor, readIdx, readNMnistBin, loadNMnist } from './data';

// --- device: OpenQASM export and the likelihood of device records ------------------------------
export { exportQasm, qasmLayout, QasmError } from './qasm';
export type { QasmNeuron, QasmOptions, QasmVersion, QasmLayout } from './qasm';
export { parseRecords, likelihoodReport, recordWidth, sampleRecords, forcedStepProbabilities, exactSpikeRates, RecordsError } from './likelihood';
export type { SpikeRecords, LikelihoodReport, LikelihoodOptions, BitOrder } from './likelihood';

// --- inputs and errors: schemas of the JSON inputs, the one user-error base class --------------
export { SqsnnError } from '../kernels/errors';
export { ConfigError } from './errors';
export { SchemaError, validate, trainConfigSchema, experimentConfigSchema, neuronSpecSchema, deviceRecordsSchema } from './schemas';
export { LockError, FileSystemError } from './run-folder';
