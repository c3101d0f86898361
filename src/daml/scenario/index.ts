export {
  DamlScenarioErrors,
  loadScenario,
  parseDuration,
  parseScenario,
  type QueryStep,
  type Scenario,
  type Step,
  type SubmitExpectation,
  type SubmitStep,
  type TimeStep,
} from './format.js';
export { jsonContains, type ScenarioReport, ScenarioRunner, type StepReport } from './runner.js';
