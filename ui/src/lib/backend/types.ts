// The one import point for the DTO types: re-exports of `src/bindings/`, which ts-rs
// generates from the Rust DTOs (`cargo test -p alignscope export_bindings`; CI fails when
// they are stale). No Rust type is written by hand in the UI.

import type { ApiCall } from '../../bindings';

export type {
  AlignedLinkDto,
  CandidateDto,
  DecisionRow,
  LinkKind,
  PairContextDto,
  PrecisionEstimateDto,
  PrecisionRecallDto,
  ProjectionDto,
  QueryOrder,
  ReviewItemDto,
  ReviewProgressDto,
  ReviewScope,
  ReviewStrategy,
  ReviewSettingsDto,
  AgreementDto,
  ReviewerAgreementDto,
  ReviewerVerdictDto,
  PairReviewsDto,
  AcceptPreviewDto,
  CalibrationDto,
  CalibrationMethod,
  RunQueryDto,
  Verdict,
} from '../../bindings';

export type {
  ApiCall,
  ApiResults,
  ArtifactDto,
  AttributeDto,
  CandidatesDto,
  ConfigFieldDto,
  CoverageDto,
  DatasetDto,
  DatasetId,
  DatasetOverviewDto,
  DecoderMethod,
  DecoderOutcomeDto,
  DecodingDto,
  DecodingResultDto,
  DecodingState,
  DegreeBucketDto,
  DemoState,
  DemoStatusDto,
  DeviceArg,
  DeviceOptionDto,
  EntityDetailDto,
  EncodedImagesDto,
  EncodingDto,
  EncodingKind,
  EncodingState,
  EncodedTextDto,
  EntityDto,
  EpochDto,
  FlipDto,
  HitsGroupDto,
  HubDto,
  ModalityHitsDto,
  ErrorCode,
  FieldGroup,
  FieldKind,
  ImportedDataset,
  JobEvent,
  JsonValue,
  ModelOptionsDto,
  NeighbourEdgeDto,
  NeighbourhoodDto,
  NeighbourNodeDto,
  RelationDto,
  RunAnalysisDto,
  RunComparisonDto,
  RunDto,
  RunId,
  RunStatus,
  SeedSetDto,
  SideDto,
  SideOverviewDto,
  TrainingOptionsDto,
} from '../../bindings';
export type { ApiError as ApiErrorDto } from '../../bindings';

/** The params of one method, as the generated `ApiCall` union declares them. */
export type CallParams<M extends ApiCall['method']> = Extract<ApiCall, { method: M }>['params'];

/** `import_dataset`'s params (the flattened `ImportRequest`). */
export type ImportRequest = CallParams<'import_dataset'>;
/** `start_run`'s params (the flattened `StartRunRequest`). */
export type StartRunRequest = CallParams<'start_run'>;
