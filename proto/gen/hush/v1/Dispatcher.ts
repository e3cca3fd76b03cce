// Original file: proto/hush.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { AssignmentsMessage as _hush_v1_AssignmentsMessage, AssignmentsMessage__Output as _hush_v1_AssignmentsMessage__Output } from '../../hush/v1/AssignmentsMessage.js';
import type { AssignmentsRequest as _hush_v1_AssignmentsRequest, AssignmentsRequest__Output as _hush_v1_AssignmentsRequest__Output } from '../../hush/v1/AssignmentsRequest.js';
import type { HeartbeatRequest as _hush_v1_HeartbeatRequest, HeartbeatRequest__Output as _hush_v1_HeartbeatRequest__Output } from '../../hush/v1/HeartbeatRequest.js';
import type { HeartbeatResponse as _hush_v1_HeartbeatResponse, HeartbeatResponse__Output as _hush_v1_HeartbeatResponse__Output } from '../../hush/v1/HeartbeatResponse.js';
import type { UpdateTaskStatusRequest as _hush_v1_UpdateTaskStatusRequest, UpdateTaskStatusRequest__Output as _hush_v1_UpdateTaskStatusRequest__Output } from '../../hush/v1/UpdateTaskStatusRequest.js';
import type { UpdateTaskStatusResponse as _hush_v1_UpdateTaskStatusResponse, UpdateTaskStatusResponse__Output as _hush_v1_UpdateTaskStatusResponse__Output } from '../../hush/v1/UpdateTaskStatusResponse.js';

export interface DispatcherClient extends grpc.Client {
  Assignments(argument: _hush_v1_AssignmentsRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_hush_v1_AssignmentsMessage__Output>;
  Assignments(argument: _hush_v1_AssignmentsRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_hush_v1_AssignmentsMessage__Output>;
  assignments(argument: _hush_v1_AssignmentsRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_hush_v1_AssignmentsMessage__Output>;
  assignments(argument: _hush_v1_AssignmentsRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_hush_v1_AssignmentsMessage__Output>;
  
  Heartbeat(argument: _hush_v1_HeartbeatRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_hush_v1_HeartbeatResponse__Output>): grpc.ClientUnaryCall;
  Heartbeat(argument: _hush_v1_HeartbeatRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_hush_v1_HeartbeatResponse__Output>): grpc.ClientUnaryCall;
  Heartbeat(argument: _hush_v1_HeartbeatRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_hush_v1_HeartbeatResponse__Output>): grpc.ClientUnaryCall;
  Heartbeat(argument: _hush_v1_HeartbeatRequest, callback: grpc.requestCallback<_hush_v1_HeartbeatResponse__Output>): grpc.ClientUnaryCall;
  heartbeat(argument: _hush_v1_HeartbeatRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_hush_v1_HeartbeatResponse__Output>): grpc.ClientUnaryCall;
  heartbeat(argument: _hush_v1_HeartbeatRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_hush_v1_HeartbeatResponse__Output>): grpc.ClientUnaryCall;
  heartbeat(argument: _hush_v1_HeartbeatRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_hush_v1_HeartbeatResponse__Output>): grpc.ClientUnaryCall;
  heartbeat(argument: _hush_v1_HeartbeatRequest, callback: grpc.requestCallback<_hush_v1_HeartbeatResponse__Output>): grpc.ClientUnaryCall;
  
  UpdateTaskStatus(argument: _hush_v1_UpdateTaskStatusRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_hush_v1_UpdateTaskStatusResponse__Output>): grpc.ClientUnaryCall;
  UpdateTaskStatus(argument: _hush_v1_UpdateTaskStatusRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_hush_v1_UpdateTaskStatusResponse__Output>): grpc.ClientUnaryCall;
  UpdateTaskStatus(argument: _hush_v1_UpdateTaskStatusRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_hush_v1_UpdateTaskStatusResponse__Output>): grpc.ClientUnaryCall;
  UpdateTaskStatus(argument: _hush_v1_UpdateTaskStatusRequest, callback: grpc.requestCallback<_hush_v1_UpdateTaskStatusResponse__Output>): grpc.ClientUnaryCall;
  updateTaskStatus(argument: _hush_v1_UpdateTaskStatusRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_hush_v1_UpdateTaskStatusResponse__Output>): grpc.ClientUnaryCall;
  updateTaskStatus(argument: _hush_v1_UpdateTaskStatusRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_hush_v1_UpdateTaskStatusResponse__Output>): grpc.ClientUnaryCall;
  updateTaskStatus(argument: _hush_v1_UpdateTaskStatusRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_hush_v1_UpdateTaskStatusResponse__Output>): grpc.ClientUnaryCall;
  updateTaskStatus(argument: _hush_v1_UpdateTaskStatusRequest, callback: grpc.requestCallback<_hush_v1_UpdateTaskStatusResponse__Output>): grpc.ClientUnaryCall;
  
}

export interface DispatcherHandlers extends grpc.UntypedServiceImplementation {
  Assignments: grpc.handleServerStreamingCall<_hush_v1_AssignmentsRequest__Output, _hush_v1_AssignmentsMessage>;
  
  Heartbeat: grpc.handleUnaryCall<_hush_v1_HeartbeatRequest__Output, _hush_v1_HeartbeatResponse>;
  
  UpdateTaskStatus: grpc.handleUnaryCall<_hush_v1_UpdateTaskStatusRequest__Output, _hush_v1_UpdateTaskStatusResponse>;
  
}

export interface DispatcherDefinition extends grpc.ServiceDefinition {
  Assignments: MethodDefinition<_hush_v1_AssignmentsRequest, _hush_v1_AssignmentsMessage, _hush_v1_AssignmentsRequest__Output, _hush_v1_AssignmentsMessage__Output>
  Heartbeat: MethodDefinition<_hush_v1_HeartbeatRequest, _hush_v1_HeartbeatResponse, _hush_v1_HeartbeatRequest__Output, _hush_v1_HeartbeatResponse__Output>
  UpdateTaskStatus: MethodDefinition<_hush_v1_UpdateTaskStatusRequest, _hush_v1_UpdateTaskStatusResponse, _hush_v1_UpdateTaskStatusRequest__Output, _hush_v1_UpdateTaskStatusResponse__Output>
}
