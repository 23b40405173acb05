export * from './choreography.ts';
export * from './flow-timeline.ts';
export * from './saga-definition.ts';
export * from './saga-machine.ts';
export * from './saga-messages.ts';
export * from './saga-orchestrator.ts';
export * from './saga-participant.ts';
export * from './saga-step-label.ts';
