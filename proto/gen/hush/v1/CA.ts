// Original file: proto/hush.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { GetRootCACertificateRequest as _hush_v1_GetRootCACertificateRequest, GetRootCACertificateRequest__Output as _hush_v1_GetRootCACertificateRequest__Output } from '../../hush/v1/GetRootCACertificateRequest.js';
import type { GetRootCACertificateResponse as _hush_v1_GetRootCACertificateResponse, GetRootCACertificateResponse__Output as _hush_v1_GetRootCACertificateResponse__Output } from '../../hush/v1/GetRootCACertificateResponse.js';
import type { IssueNodeCertificateRequest as _hush_v1_IssueNodeCertificateRequest, IssueNodeCertificateRequest__Output as _hush_v1_IssueNodeCertificateRequest__Output } from '../../hush/v1/IssueNodeCertificateRequest.js';
import type { IssueNodeCertificateResponse as _hush_v1_IssueNodeCertificateResponse, IssueNodeCertificateResponse__Output as _hush_v1_IssueNodeCertificateResponse__Output } from '../../hush/v1/IssueNodeCertificateResponse.js';
import type { JoinManagerRequest as _hush_v1_JoinManagerRequest, JoinManagerRequest__Output as _hush_v1_JoinManagerRequest__Output } from '../../hush/v1/JoinManagerRequest.js';
import type { JoinManagerResponse as _hush_v1_JoinManagerResponse, JoinManagerResponse__Output as _hush_v1_JoinManagerResponse__Output } from '../../hush/v1/JoinManagerResponse.js';
import type { RenewNodeCertificateRequest as _hush_v1_RenewNodeCertificateRequest, RenewNodeCertificateRequest__Output as _hush_v1_RenewNodeCertificateRequest__Output } from '../../hush/v1/RenewNodeCertificateRequest.js';

export interface CAClient extends grpc.Client {
  GetRootCACertificate(argument: _hush_v1_GetRootCACertificateRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_hush_v1_GetRootCACertificateResponse__Output>): grpc.ClientUnaryCall;
  GetRootCACertificate(argument: _hush_v1_GetRootCACertificateRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_hush_v1_GetRootCACertificateResponse__Output>): grpc.ClientUnaryCall;
  GetRootCACertificate(argument: _hush_v1_GetRootCACertificateRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_hush_v1_GetRootCACertificateResponse__Output>): grpc.ClientUnaryCall;
  GetRootCACertificate(argument: _hush_v1_GetRootCACertificateRequest, callback: grpc.requestCallback<_hush_v1_GetRootCACertificateResponse__Output>): grpc.ClientUnaryCall;
  getRootCaCertificate(argument: _hush_v1_GetRootCACertificateRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_hush_v1_GetRootCACertificateResponse__Output>): grpc.ClientUnaryCall;
  getRootCaCertificate(argument: _hush_v1_GetRootCACertificateRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_hush_v1_GetRootCACertificateResponse__Output>): grpc.ClientUnaryCall;
  getRootCaCertificate(argument: _hush_v1_GetRootCACertificateRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_hush_v1_GetRootCACertificateResponse__Output>): grpc.ClientUnaryCall;
  getRootCaCertificate(argument: _hush_v1_GetRootCACertificateRequest, callback: grpc.requestCallback<_hush_v1_GetRootCACertificateResponse__Output>): grpc.ClientUnaryCall;
  
  IssueNodeCertificate(argument: _hush_v1_IssueNodeCertificateRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_hush_v1_IssueNodeCertificateResponse__Output>): grpc.ClientUnaryCall;
  IssueNodeCertificate(argument: _hush_v1_IssueNodeCertificateRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_hush_v1_IssueNodeCertificateResponse__Output>): grpc.ClientUnaryCall;
  IssueNodeCertificate(argument: _hush_v1_IssueNodeCertificateRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_hush_v1_IssueNodeCertificateResponse__Output>): grpc.ClientUnaryCall;
  IssueNodeCertificate(argument: _hush_v1_IssueNodeCertificateRequest, callback: grpc.requestCallback<_hush_v1_IssueNodeCertificateResponse__Output>): grpc.ClientUnaryCall;
  issueNodeCertificate(argument: _hush_v1_IssueNodeCertificateRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_hush_v1_IssueNodeCertificateResponse__Output>): grpc.ClientUnaryCall;
  issueNodeCertificate(argument: _hush_v1_IssueNodeCertificateRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_hush_v1_IssueNodeCertificateResponse__Output>): grpc.ClientUnaryCall;
  issueNodeCertificate(argument: _hush_v1_IssueNodeCertificateRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_hush_v1_IssueNodeCertificateResponse__Output>): grpc.ClientUnaryCall;
  issueNodeCertificate(argument: _hush_v1_IssueNodeCertificateRequest, callback: grpc.requestCallback<_hush_v1_IssueNodeCertificateResponse__Output>): grpc.ClientUnaryCall;
  
  JoinManager(argument: _hush_v1_JoinManagerRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_hush_v1_JoinManagerResponse__Output>): grpc.ClientUnaryCall;
  JoinManager(argument: _hush_v1_JoinManagerRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_hush_v1_JoinManagerResponse__Output>): grpc.ClientUnaryCall;
  JoinManager(argument: _hush_v1_JoinManagerRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_hush_v1_JoinManagerResponse__Output>): grpc.ClientUnaryCall;
  JoinManager(argument: _hush_v1_JoinManagerRequest, callback: grpc.requestCallback<_hush_v1_JoinManagerResponse__Output>): grpc.ClientUnaryCall;
  joinManager(argument: _hush_v1_JoinManagerRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_hush_v1_JoinManagerResponse__Output>): grpc.ClientUnaryCall;
  joinManager(argument: _hush_v1_JoinManagerRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_hush_v1_JoinManagerResponse__Output>): grpc.ClientUnaryCall;
  joinManager(argument: _hush_v1_JoinManagerRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_hush_v1_JoinManagerResponse__Output>): grpc.ClientUnaryCall;
  joinManager(argument: _hush_v1_JoinManagerRequest, callback: grpc.requestCallback<_hush_v1_JoinManagerResponse__Output>): grpc.ClientUnaryCall;
  
  RenewNodeCertificate(argument: _hush_v1_RenewNodeCertificateRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_hush_v1_IssueNodeCertificateResponse__Output>): grpc.ClientUnaryCall;
  RenewNodeCertificate(argument: _hush_v1_RenewNodeCertificateRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_hush_v1_IssueNodeCertificateResponse__Output>): grpc.ClientUnaryCall;
  RenewNodeCertificate(argument: _hush_v1_RenewNodeCertificateRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_hush_v1_IssueNodeCertificateResponse__Output>): grpc.ClientUnaryCall;
  RenewNodeCertificate(argument: _hush_v1_RenewNodeCertificateRequest, callback: grpc.requestCallback<_hush_v1_IssueNodeCertificateResponse__Output>): grpc.ClientUnaryCall;
  renewNodeCertificate(argument: _hush_v1_RenewNodeCertificateRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_hush_v1_IssueNodeCertificateResponse__Output>): grpc.ClientUnaryCall;
  renewNodeCertificate(argument: _hush_v1_RenewNodeCertificateRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_hush_v1_IssueNodeCertificateResponse__Output>): grpc.ClientUnaryCall;
  renewNodeCertificate(argument: _hush_v1_RenewNodeCertificateRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_hush_v1_IssueNodeCertificateResponse__Output>): grpc.ClientUnaryCall;
  renewNodeCertificate(argument: _hush_v1_RenewNodeCertificateRequest, callback: grpc.requestCallback<_hush_v1_IssueNodeCertificateResponse__Output>): grpc.ClientUnaryCall;
  
}

export interface CAHandlers extends grpc.UntypedServiceImplementation {
  GetRootCACertificate: grpc.handleUnaryCall<_hush_v1_GetRootCACertificateRequest__Output, _hush_v1_GetRootCACertificateResponse>;
  
  IssueNodeCertificate: grpc.handleUnaryCall<_hush_v1_IssueNodeCertificateRequest__Output, _hush_v1_IssueNodeCertificateResponse>;
  
  JoinManager: grpc.handleUnaryCall<_hush_v1_JoinManagerRequest__Output, _hush_v1_JoinManagerResponse>;
  
  RenewNodeCertificate: grpc.handleUnaryCall<_hush_v1_RenewNodeCertificateRequest__Output, _hush_v1_IssueNodeCertificateResponse>;
  
}

export interface CADefinition extends grpc.ServiceDefinition {
  GetRootCACertificate: MethodDefinition<_hush_v1_GetRootCACertificateRequest, _hush_v1_GetRootCACertificateResponse, _hush_v1_GetRootCACertificateRequest__Output, _hush_v1_GetRootCACertificateResponse__Output>
  IssueNodeCertificate: MethodDefinition<_hush_v1_IssueNodeCertificateRequest, _hush_v1_IssueNodeCertificateResponse, _hush_v1_IssueNodeCertificateRequest__Output, _hush_v1_IssueNodeCertificateResponse__Output>
  JoinManager: MethodDefinition<_hush_v1_JoinManagerRequest, _hush_v1_JoinManagerResponse, _hush_v1_JoinManagerRequest__Output, _hush_v1_JoinManagerResponse__Output>
  RenewNodeCertificate: MethodDefinition<_hush_v1_RenewNodeCertificateRequest, _hush_v1_IssueNodeCertificateResponse, _hush_v1_RenewNodeCertificateRequest__Output, _hush_v1_IssueNodeCertificateResponse__Output>
}
