export { StagecoachEngine } from './StagecoachEngine';
export type { EngineStores, EngineWorkers } from './StagecoachEngine';
export type {
  AutomaticChange,
  StagecoachEngineOptions,
} from './StagecoachEngineOptions';
export type { ApplyManifestsOptions } from './ProjectService';
export { DomainEventBus } from './events/DomainEventBus';
export type { DomainEventHandler } from './events/DomainEventBus';
export type * from './events/DomainEvent';
export type * from './events/StagecoachEvent';
