// Original file: proto/hush.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { CreateSecretRequest as _hush_v1_CreateSecretRequest, CreateSecretRequest__Output as _hush_v1_CreateSecretRequest__Output } from '../../hush/v1/CreateSecretRequest.js';
import type { CreateServiceRequest as _hush_v1_CreateServiceRequest, CreateServiceRequest__Output as _hush_v1_CreateServiceRequest__Output } from '../../hush/v1/CreateServiceRequest.js';
import type { GetJoinTokenRequest as _hush_v1_GetJoinTokenRequest, GetJoinTokenRequest__Output as _hush_v1_GetJoinTokenRequest__Output } from '../../hush/v1/GetJoinTokenRequest.js';
import type { GetJoinTokenResponse as _hush_v1_GetJoinTokenResponse, GetJoinTokenResponse__Output as _hush_v1_GetJoinTokenResponse__Output } from '../../hush/v1/GetJoinTokenResponse.js';
import type { GetManagerStatusRequest as _hush_v1_GetManagerStatusRequest, GetManagerStatusRequest__Output as _hush_v1_GetManagerStatusRequest__Output } from '../../hush/v1/GetManagerStatusRequest.js';
import type { GetNodeRequest as _hush_v1_GetNodeRequest, GetNodeRequest__Output as _hush_v1_GetNodeRequest__Output } from '../../hush/v1/GetNodeRequest.js';
import type { GetSecretRequest as _hush_v1_GetSecretRequest, GetSecretRequest__Output as _hush_v1_GetSecretRequest__Output } from '../../hush/v1/GetSecretRequest.js';
import type { GetServiceRequest as _hush_v1_GetServiceRequest, GetServiceRequest__Output as _hush_v1_GetServiceRequest__Output } from '../../hush/v1/GetServiceRequest.js';
import type { GetUnlockKeyRequest as _hush_v1_GetUnlockKeyRequest, GetUnlockKeyRequest__Output as _hush_v1_GetUnlockKeyRequest__Output } from '../../hush/v1/GetUnlockKeyRequest.js';
import type { GetUnlockKeyResponse as _hush_v1_GetUnlockKeyResponse, GetUnlockKeyResponse__Output as _hush_v1_GetUnlockKeyResponse__Output } from '../../hush/v1/GetUnlockKeyResponse.js';
import type { ListManagersRequest as _hush_v1_ListManagersRequest, ListManagersRequest__Output as _hush_v1_ListManagersRequest__Output } from '../../hush/v1/ListManagersRequest.js';
import type { ListManagersResponse as _hush_v1_ListManagersResponse, ListManagersResponse__Output as _hush_v1_ListManagersResponse__Output } from '../../hush/v1/ListManagersResponse.js';
import type { ListNodesRequest as _hush_v1_ListNodesRequest, ListNodesRequest__Output as _hush_v1_ListNodesRequest__Output } from '../../hush/v1/ListNodesRequest.js';
import type { ListNodesResponse as _hush_v1_ListNodesResponse, ListNodesResponse__Output as _hush_v1_ListNodesResponse__Output } from '../../hush/v1/ListNodesResponse.js';
import type { ListSecretsRequest as _hush_v1_ListSecretsRequest, ListSecretsRequest__Output as _hush_v1_ListSecretsRequest__Output } from '../../hush/v1/ListSecretsRequest.js';
import type { ListSecretsResponse as _hush_v1_ListSecretsResponse, ListSecretsResponse__Output as _hush_v1_ListSecretsResponse__Output } from '../../hush/v1/ListSecretsResponse.js';
import type { ListServicesRequest as _hush_v1_ListServicesRequest, ListServicesRequest__Output as _hush_v1_ListServicesRequest__Output } from '../../hush/v1/ListServicesRequest.js';
import type { ListServicesResponse as _hush_v1_ListServicesResponse, ListServicesResponse__Output as _hush_v1_ListServicesResponse__Output } from '../../hush/v1/ListServicesResponse.js';
import type { ListTasksRequest as _hush_v1_ListTasksRequest, ListTasksRequest__Output as _hush_v1_ListTasksRequest__Output } from '../../hush/v1/ListTasksRequest.js';
import type { ListTasksResponse as _hush_v1_ListTasksResponse, ListTasksResponse__Output as _hush_v1_ListTasksResponse__Output } from '../../hush/v1/ListTasksResponse.js';
import type { ManagerStatus as _hush_v1_ManagerStatus, ManagerStatus__Output as _hush_v1_ManagerStatus__Output } from '../../hush/v1/ManagerStatus.js';
import type { Node as _hush_v1_Node, Node__Output as _hush_v1_Node__Output } from '../../hush/v1/Node.js';
import type { RemoveManagerRequest as _hush_v1_RemoveManagerRequest, RemoveManagerRequest__Output as _hush_v1_RemoveManagerRequest__Output } from '../../hush/v1/RemoveManagerRequest.js';
import type { RemoveManagerResponse as _hush_v1_RemoveManagerResponse, RemoveManagerResponse__Output as _hush_v1_RemoveManagerResponse__Output } from '../../hush/v1/RemoveManagerResponse.js';
import type { RemoveNodeRequest as _hush_v1_RemoveNodeRequest, RemoveNodeRequest__Output as _hush_v1_RemoveNodeRequest__Output } from '../../hush/v1/RemoveNodeRequest.js';
import type { RemoveNodeResponse as _hush_v1_RemoveNodeResponse, RemoveNodeResponse__Output as _hush_v1_RemoveNodeResponse__Output } from '../../hush/v1/RemoveNodeResponse.js';
import type { RemoveSecretRequest as _hush_v1_RemoveSecretRequest, RemoveSecretRequest__Output as _hush_v1_RemoveSecretRequest__Output } from '../../hush/v1/RemoveSecretRequest.js';
import type { RemoveSecretResponse as _hush_v1_RemoveSecretResponse, RemoveSecretResponse__Output as _hush_v1_RemoveSecretResponse__Output } from '../../hush/v1/RemoveSecretResponse.js';
import type { RemoveServiceRequest as _hush_v1_RemoveServiceRequest, RemoveServiceRequest__Output as _hush_v1_RemoveServiceRequest__Output } from '../../hush/v1/RemoveServiceRequest.js';
import type { RemoveServiceResponse as _hush_v1_RemoveServiceResponse, RemoveServiceResponse__Output as _hush_v1_RemoveServiceResponse__Output } from '../../hush/v1/RemoveServiceResponse.js';
import type { SecretResponse as _hush_v1_SecretResponse, SecretResponse__Output as _hush_v1_SecretResponse__Output } from '../../hush/v1/SecretResponse.js';
import type { Service as _hush_v1_Service, Service__Output as _hush_v1_Service__Output } from '../../hush/v1/Service.js';
import type { UnlockRequest as _hush_v1_UnlockRequest, UnlockRequest__Output as _hush_v1_UnlockRequest__Output } from '../../hush/v1/UnlockRequest.js';
import type { UnlockResponse as _hush_v1_UnlockResponse, UnlockResponse__Output as _hush_v1_UnlockResponse__Output } from '../../hush/v1/UnlockResponse.js';
import type { UpdateNodeRequest as _hush_v1_UpdateNodeRequest, UpdateNodeRequest__Output as _hush_v1_UpdateNodeRequest__Output } from '../../hush/v1/UpdateNodeRequest.js';
import type { UpdateSecretRequest as _hush_v1_UpdateSecretRequest, UpdateSecretRequest__Output as _hush_v1_UpdateSecretRequest__Output } from '../../hush/v1/UpdateSecretRequest.js';
import type { UpdateServiceRequest as _hush_v1_UpdateServiceRequest, UpdateServiceRequest__Output as _hush_v1_UpdateServiceRequest__Output } from '../../hush/v1/UpdateServiceRequest.js';

export interface ControlClient extends grpc.Client {
  CreateSecret(argument: _hush_v1_CreateSecretRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_hush_v1_SecretResponse__Output>): grpc.ClientUnaryCall;
  CreateSecret(argument: _hush_v1_CreateSecretRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_hush_v1_SecretResponse__Output>): grpc.ClientUnaryCall;
  CreateSecret(argument: _hush_v1_CreateSecretRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_hush_v1_SecretResponse__Output>): grpc.ClientUnaryCall;
  CreateSecret(argument: _hush_v1_CreateSecretRequest, callback: grpc.requestCallback<_hush_v1_SecretResponse__Output>): grpc.ClientUnaryCall;
  createSecret(argument: _hush_v1_CreateSecretRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_hush_v1_SecretResponse__Output>): grpc.ClientUnaryCall;
  createSecret(argument: _hush_v1_CreateSecretRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_hush_v1_SecretResponse__Output>): grpc.ClientUnaryCall;
  createSecret(argument: _hush_v1_CreateSecretRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_hush_v1_SecretResponse__Output>): grpc.ClientUnaryCall;
  createSecret(argument: _hush_v1_CreateSecretRequest, callback: grpc.requestCallback<_hush_v1_SecretResponse__Output>): grpc.ClientUnaryCall;
  
  CreateService(argument: _hush_v1_CreateServiceRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_hush_v1_Service__Output>): grpc.ClientUnaryCall;
  CreateService(argument: _hush_v1_CreateServiceRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_hush_v1_Service__Output>): grpc.ClientUnaryCall;
  CreateService(argument: _hush_v1_CreateServiceRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_hush_v1_Service__Output>): grpc.ClientUnaryCall;
  CreateService(argument: _hush_v1_CreateServiceRequest, callback: grpc.requestCallback<_hush_v1_Service__Output>): grpc.ClientUnaryCall;
  createService(argument: _hush_v1_CreateServiceRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_hush_v1_Service__Output>): grpc.ClientUnaryCall;
  createService(argument: _hush_v1_CreateServiceRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_hush_v1_Service__Output>): grpc.ClientUnaryCall;
  createService(argument: _hush_v1_CreateServiceRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_hush_v1_Service__Output>): grpc.ClientUnaryCall;
  createService(argument: _hush_v1_CreateServiceRequest, callback: grpc.requestCallback<_hush_v1_Service__Output>): grpc.ClientUnaryCall;
  
  GetJoinToken(argument: _hush_v1_GetJoinTokenRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_hush_v1_GetJoinTokenResponse__Output>): grpc.ClientUnaryCall;
  GetJoinToken(argument: _hush_v1_GetJoinTokenRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_hush_v1_GetJoinTokenResponse__Output>): grpc.ClientUnaryCall;
  GetJoinToken(argument: _hush_v1_GetJoinTokenRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_hush_v1_GetJoinTokenResponse__Output>): grpc.ClientUnaryCall;
  GetJoinToken(argument: _hush_v1_GetJoinTokenRequest, callback: grpc.requestCallback<_hush_v1_GetJoinTokenResponse__Output>): grpc.ClientUnaryCall;
  getJoinToken(argument: _hush_v1_GetJoinTokenRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_hush_v1_GetJoinTokenResponse__Output>): grpc.ClientUnaryCall;
  getJoinToken(argument: _hush_v1_GetJoinTokenRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_hush_v1_GetJoinTokenResponse__Output>): grpc.ClientUnaryCall;
  getJoinToken(argument: _hush_v1_GetJoinTokenRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_hush_v1_GetJoinTokenResponse__Output>): grpc.ClientUnaryCall;
  getJoinToken(argument: _hush_v1_GetJoinTokenRequest, callback: grpc.requestCallback<_hush_v1_GetJoinTokenResponse__Output>): grpc.ClientUnaryCall;
  
  GetManagerStatus(argument: _hush_v1_GetManagerStatusRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_hush_v1_ManagerStatus__Output>): grpc.ClientUnaryCall;
  GetManagerStatus(argument: _hush_v1_GetManagerStatusRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_hush_v1_ManagerStatus__Output>): grpc.ClientUnaryCall;
  GetManagerStatus(argument: _hush_v1_GetManagerStatusRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_hush_v1_ManagerStatus__Output>): grpc.ClientUnaryCall;
  GetManagerStatus(argument: _hush_v1_GetManagerStatusRequest, callback: grpc.requestCallback<_hush_v1_ManagerStatus__Output>): grpc.ClientUnaryCall;
  getManagerStatus(argument: _hush_v1_GetManagerStatusRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_hush_v1_ManagerStatus__Output>): grpc.ClientUnaryCall;
  getManagerStatus(argument: _hush_v1_GetManagerStatusRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_hush_v1_ManagerStatus__Output>): grpc.ClientUnaryCall;
  getManagerStatus(argument: _hush_v1_GetManagerStatusRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_hush_v1_ManagerStatus__Output>): grpc.ClientUnaryCall;
  getManagerStatus(argument: _hush_v1_GetManagerStatusRequest, callback: grpc.requestCallback<_hush_v1_ManagerStatus__Output>): grpc.ClientUnaryCall;
  
  GetNode(argument: _hush_v1_GetNodeRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_hush_v1_Node__Output>): grpc.ClientUnaryCall;
  GetNode(argument: _hush_v1_GetNodeRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_hush_v1_Node__Output>): grpc.ClientUnaryCall;
  GetNode(argument: _hush_v1_GetNodeRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_hush_v1_Node__Output>): grpc.ClientUnaryCall;
  GetNode(argument: _hush_v1_GetNodeRequest, callback: grpc.requestCallback<_hush_v1_Node__Output>): grpc.ClientUnaryCall;
  getNode(argument: _hush_v1_GetNodeRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_hush_v1_Node__Output>): grpc.ClientUnaryCall;
  getNode(argument: _hush_v1_GetNodeRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_hush_v1_Node__Output>): grpc.ClientUnaryCall;
  getNode(argument: _hush_v1_GetNodeRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_hush_v1_Node__Output>): grpc.ClientUnaryCall;
  getNode(argument: _hush_v1_GetNodeRequest, callback: grpc.requestCallback<_hush_v1_Node__Output>): grpc.ClientUnaryCall;
  
  GetSecret(argument: _hush_v1_GetSecretRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_hush_v1_SecretResponse__Output>): grpc.ClientUnaryCall;
  GetSecret(argument: _hush_v1_GetSecretRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_hush_v1_SecretResponse__Output>): grpc.ClientUnaryCall;
  GetSecret(argument: _hush_v1_GetSecretRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_hush_v1_SecretResponse__Output>): grpc.ClientUnaryCall;
  GetSecret(argument: _hush_v1_GetSecretRequest, callback: grpc.requestCallback<_hush_v1_SecretResponse__Output>): grpc.ClientUnaryCall;
  getSecret(argument: _hush_v1_GetSecretRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_hush_v1_SecretResponse__Output>): grpc.ClientUnaryCall;
  getSecret(argument: _hush_v1_GetSecretRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_hush_v1_SecretResponse__Output>): grpc.ClientUnaryCall;
  getSecret(argument: _hush_v1_GetSecretRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_hush_v1_SecretResponse__Output>): grpc.ClientUnaryCall;
  getSecret(argument: _hush_v1_GetSecretRequest, callback: grpc.requestCallback<_hush_v1_SecretResponse__Output>): grpc.ClientUnaryCall;
  
  GetService(argument: _hush_v1_GetServiceRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_hush_v1_Service__Output>): grpc.ClientUnaryCall;
  GetService(argument: _hush_v1_GetServiceRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_hush_v1_Service__Output>): grpc.ClientUnaryCall;
  GetService(argument: _hush_v1_GetServiceRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_hush_v1_Service__Output>): grpc.ClientUnaryCall;
  GetService(argument: _hush_v1_GetServiceRequest, callback: grpc.requestCallback<_hush_v1_Service__Output>): grpc.ClientUnaryCall;
  getService(argument: _hush_v1_GetServiceRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_hush_v1_Service__Output>): grpc.ClientUnaryCall;
  getService(argument: _hush_v1_GetServiceRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_hush_v1_Service__Output>): grpc.ClientUnaryCall;
  getService(argument: _hush_v1_GetServiceRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_hush_v1_Service__Output>): grpc.ClientUnaryCall;
  getService(argument: _hush_v1_GetServiceRequest, callback: grpc.requestCallback<_hush_v1_Service__Output>): grpc.ClientUnaryCall;
  
  GetUnlockKey(argument: _hush_v1_GetUnlockKeyRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_hush_v1_GetUnlockKeyResponse__Output>): grpc.ClientUnaryCall;
  GetUnlockKey(argument: _hush_v1_GetUnlockKeyRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_hush_v1_GetUnlockKeyResponse__Output>): grpc.ClientUnaryCall;
  GetUnlockKey(argument: _hush_v1_GetUnlockKeyRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_hush_v1_GetUnlockKeyResponse__Output>): grpc.ClientUnaryCall;
  GetUnlockKey(argument: _hush_v1_GetUnlockKeyRequest, callback: grpc.requestCallback<_hush_v1_GetUnlockKeyResponse__Output>): grpc.ClientUnaryCall;
  getUnlockKey(argument: _hush_v1_GetUnlockKeyRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_hush_v1_GetUnlockKeyResponse__Output>): grpc.ClientUnaryCall;
  getUnlockKey(argument: _hush_v1_GetUnlockKeyRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_hush_v1_GetUnlockKeyResponse__Output>): grpc.ClientUnaryCall;
  getUnlockKey(argument: _hush_v1_GetUnlockKeyRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_hush_v1_GetUnlockKeyResponse__Output>): grpc.ClientUnaryCall;
  getUnlockKey(argument: _hush_v1_GetUnlockKeyRequest, callback: grpc.requestCallback<_hush_v1_GetUnlockKeyResponse__Output>): grpc.ClientUnaryCall;
  
  ListManagers(argument: _hush_v1_ListManagersRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_hush_v1_ListManagersResponse__Output>): grpc.ClientUnaryCall;
  ListManagers(argument: _hush_v1_ListManagersRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_hush_v1_ListManagersResponse__Output>): grpc.ClientUnaryCall;
  ListManagers(argument: _hush_v1_ListManagersRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_hush_v1_ListManagersResponse__Output>): grpc.ClientUnaryCall;
  ListManagers(argument: _hush_v1_ListManagersRequest, callback: grpc.requestCallback<_hush_v1_ListManagersResponse__Output>): grpc.ClientUnaryCall;
  listManagers(argument: _hush_v1_ListManagersRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_hush_v1_ListManagersResponse__Output>): grpc.ClientUnaryCall;
  listManagers(argument: _hush_v1_ListManagersRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_hush_v1_ListManagersResponse__Output>): grpc.ClientUnaryCall;
  listManagers(argument: _hush_v1_ListManagersRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_hush_v1_ListManagersResponse__Output>): grpc.ClientUnaryCall;
  listManagers(argument: _hush_v1_ListManagersRequest, callback: grpc.requestCallback<_hush_v1_ListManagersResponse__Output>): grpc.ClientUnaryCall;
  
  ListNodes(argument: _hush_v1_ListNodesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_hush_v1_ListNodesResponse__Output>): grpc.ClientUnaryCall;
  ListNodes(argument: _hush_v1_ListNodesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_hush_v1_ListNodesResponse__Output>): grpc.ClientUnaryCall;
  ListNodes(argument: _hush_v1_ListNodesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_hush_v1_ListNodesResponse__Output>): grpc.ClientUnaryCall;
  ListNodes(argument: _hush_v1_ListNodesRequest, callback: grpc.requestCallback<_hush_v1_ListNodesResponse__Output>): grpc.ClientUnaryCall;
  listNodes(argument: _hush_v1_ListNodesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_hush_v1_ListNodesResponse__Output>): grpc.ClientUnaryCall;
  listNodes(argument: _hush_v1_ListNodesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_hush_v1_ListNodesResponse__Output>): grpc.ClientUnaryCall;
  listNodes(argument: _hush_v1_ListNodesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_hush_v1_ListNodesResponse__Output>): grpc.ClientUnaryCall;
  listNodes(argument: _hush_v1_ListNodesRequest, callback: grpc.requestCallback<_hush_v1_ListNodesResponse__Output>): grpc.ClientUnaryCall;
  
  ListSecrets(argument: _hush_v1_ListSecretsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_hush_v1_ListSecretsResponse__Output>): grpc.ClientUnaryCall;
  ListSecrets(argument: _hush_v1_ListSecretsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_hush_v1_ListSecretsResponse__Output>): grpc.ClientUnaryCall;
  ListSecrets(argument: _hush_v1_ListSecretsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_hush_v1_ListSecretsResponse__Output>): grpc.ClientUnaryCall;
  ListSecrets(argument: _hush_v1_ListSecretsRequest, callback: grpc.requestCallback<_hush_v1_ListSecretsResponse__Output>): grpc.ClientUnaryCall;
  listSecrets(argument: _hush_v1_ListSecretsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_hush_v1_ListSecretsResponse__Output>): grpc.ClientUnaryCall;
  listSecrets(argument: _hush_v1_ListSecretsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_hush_v1_ListSecretsResponse__Output>): grpc.ClientUnaryCall;
  listSecrets(argument: _hush_v1_ListSecretsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_hush_v1_ListSecretsResponse__Output>): grpc.ClientUnaryCall;
  listSecrets(argument: _hush_v1_ListSecretsRequest, callback: grpc.requestCallback<_hush_v1_ListSecretsResponse__Output>): grpc.ClientUnaryCall;
  
  ListServices(argument: _hush_v1_ListServicesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_hush_v1_ListServicesResponse__Output>): grpc.ClientUnaryCall;
  ListServices(argument: _hush_v1_ListServicesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_hush_v1_ListServicesResponse__Output>): grpc.ClientUnaryCall;
  ListServices(argument: _hush_v1_ListServicesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_hush_v1_ListServicesResponse__Output>): grpc.ClientUnaryCall;
  ListServices(argument: _hush_v1_ListServicesRequest, callback: grpc.requestCallback<_hush_v1_ListServicesResponse__Output>): grpc.ClientUnaryCall;
  listServices(argument: _hush_v1_ListServicesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_hush_v1_ListServicesResponse__Output>): grpc.ClientUnaryCall;
  listServices(argument: _hush_v1_ListServicesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_hush_v1_ListServicesResponse__Output>): grpc.ClientUnaryCall;
  listServices(argument: _hush_v1_ListServicesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_hush_v1_ListServicesResponse__Output>): grpc.ClientUnaryCall;
  listServices(argument: _hush_v1_ListServicesRequest, callback: grpc.requestCallback<_hush_v1_ListServicesResponse__Output>): grpc.ClientUnaryCall;
  
  ListTasks(argument: _hush_v1_ListTasksRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_hush_v1_ListTasksResponse__Output>): grpc.ClientUnaryCall;
  ListTasks(argument: _hush_v1_ListTasksRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_hush_v1_ListTasksResponse__Output>): grpc.ClientUnaryCall;
  ListTasks(argument: _hush_v1_ListTasksRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_hush_v1_ListTasksResponse__Output>): grpc.ClientUnaryCall;
  ListTasks(argument: _hush_v1_ListTasksRequest, callback: grpc.requestCallback<_hush_v1_ListTasksResponse__Output>): grpc.ClientUnaryCall;
  listTasks(argument: _hush_v1_ListTasksRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_hush_v1_ListTasksResponse__Output>): grpc.ClientUnaryCall;
  listTasks(argument: _hush_v1_ListTasksRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_hush_v1_ListTasksResponse__Output>): grpc.ClientUnaryCall;
  listTasks(argument: _hush_v1_ListTasksRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_hush_v1_ListTasksResponse__Output>): grpc.ClientUnaryCall;
  listTasks(argument: _hush_v1_ListTasksRequest, callback: grpc.requestCallback<_hush_v1_ListTasksResponse__Output>): grpc.ClientUnaryCall;
  
  RemoveManager(argument: _hush_v1_RemoveManagerRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_hush_v1_RemoveManagerResponse__Output>): grpc.ClientUnaryCall;
  RemoveManager(argument: _hush_v1_RemoveManagerRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_hush_v1_RemoveManagerResponse__Output>): grpc.ClientUnaryCall;
  RemoveManager(argument: _hush_v1_RemoveManagerRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_hush_v1_RemoveManagerResponse__Output>): grpc.ClientUnaryCall;
  RemoveManager(argument: _hush_v1_RemoveManagerRequest, callback: grpc.requestCallback<_hush_v1_RemoveManagerResponse__Output>): grpc.ClientUnaryCall;
  removeManager(argument: _hush_v1_RemoveManagerRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_hush_v1_RemoveManagerResponse__Output>): grpc.ClientUnaryCall;
  removeManager(argument: _hush_v1_RemoveManagerRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_hush_v1_RemoveManagerResponse__Output>): grpc.ClientUnaryCall;
  removeManager(argument: _hush_v1_RemoveManagerRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_hush_v1_RemoveManagerResponse__Output>): grpc.ClientUnaryCall;
  removeManager(argument: _hush_v1_RemoveManagerRequest, callback: grpc.requestCallback<_hush_v1_RemoveManagerResponse__Output>): grpc.ClientUnaryCall;
  
  RemoveNode(argument: _hush_v1_RemoveNodeRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_hush_v1_RemoveNodeResponse__Output>): grpc.ClientUnaryCall;
  RemoveNode(argument: _hush_v1_RemoveNodeRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_hush_v1_RemoveNodeResponse__Output>): grpc.ClientUnaryCall;
  RemoveNode(argument: _hush_v1_RemoveNodeRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_hush_v1_RemoveNodeResponse__Output>): grpc.ClientUnaryCall;
  RemoveNode(argument: _hush_v1_RemoveNodeRequest, callback: grpc.requestCallback<_hush_v1_RemoveNodeResponse__Output>): grpc.ClientUnaryCall;
  removeNode(argument: _hush_v1_RemoveNodeRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_hush_v1_RemoveNodeResponse__Output>): grpc.ClientUnaryCall;
  removeNode(argument: _hush_v1_RemoveNodeRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_hush_v1_RemoveNodeResponse__Output>): grpc.ClientUnaryCall;
  removeNode(argument: _hush_v1_RemoveNodeRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_hush_v1_RemoveNodeResponse__Output>): grpc.ClientUnaryCall;
  removeNode(argument: _hush_v1_RemoveNodeRequest, callback: grpc.requestCallback<_hush_v1_RemoveNodeResponse__Output>): grpc.ClientUnaryCall;
  
  RemoveSecret(argument: _hush_v1_RemoveSecretRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_hush_v1_RemoveSecretResponse__Output>): grpc.ClientUnaryCall;
  RemoveSecret(argument: _hush_v1_RemoveSecretRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_hush_v1_RemoveSecretResponse__Output>): grpc.ClientUnaryCall;
  RemoveSecret(argument: _hush_v1_RemoveSecretRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_hush_v1_RemoveSecretResponse__Output>): grpc.ClientUnaryCall;
  RemoveSecret(argument: _hush_v1_RemoveSecretRequest, callback: grpc.requestCallback<_hush_v1_RemoveSecretResponse__Output>): grpc.ClientUnaryCall;
  removeSecret(argument: _hush_v1_RemoveSecretRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_hush_v1_RemoveSecretResponse__Output>): grpc.ClientUnaryCall;
  removeSecret(argument: _hush_v1_RemoveSecretRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_hush_v1_RemoveSecretResponse__Output>): grpc.ClientUnaryCall;
  removeSecret(argument: _hush_v1_RemoveSecretRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_hush_v1_RemoveSecretResponse__Output>): grpc.ClientUnaryCall;
  removeSecret(argument: _hush_v1_RemoveSecretRequest, callback: grpc.requestCallback<_hush_v1_RemoveSecretResponse__Output>): grpc.ClientUnaryCall;
  
  RemoveService(argument: _hush_v1_RemoveServiceRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_hush_v1_RemoveServiceResponse__Output>): grpc.ClientUnaryCall;
  RemoveService(argument: _hush_v1_RemoveServiceRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_hush_v1_RemoveServiceResponse__Output>): grpc.ClientUnaryCall;
  RemoveService(argument: _hush_v1_RemoveServiceRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_hush_v1_RemoveServiceResponse__Output>): grpc.ClientUnaryCall;
  RemoveService(argument: _hush_v1_RemoveServiceRequest, callback: grpc.requestCallback<_hush_v1_RemoveServiceResponse__Output>): grpc.ClientUnaryCall;
  removeService(argument: _hush_v1_RemoveServiceRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_hush_v1_RemoveServiceResponse__Output>): grpc.ClientUnaryCall;
  removeService(argument: _hush_v1_RemoveServiceRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_hush_v1_RemoveServiceResponse__Output>): grpc.ClientUnaryCall;
  removeService(argument: _hush_v1_RemoveServiceRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_hush_v1_RemoveServiceResponse__Output>): grpc.ClientUnaryCall;
  removeService(argument: _hush_v1_RemoveServiceRequest, callback: grpc.requestCallback<_hush_v1_RemoveServiceResponse__Output>): grpc.ClientUnaryCall;
  
  Unlock(argument: _hush_v1_UnlockRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_hush_v1_UnlockResponse__Output>): grpc.ClientUnaryCall;
  Unlock(argument: _hush_v1_UnlockRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_hush_v1_UnlockResponse__Output>): grpc.ClientUnaryCall;
  Unlock(argument: _hush_v1_UnlockRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_hush_v1_UnlockResponse__Output>): grpc.ClientUnaryCall;
  Unlock(argument: _hush_v1_UnlockRequest, callback: grpc.requestCallback<_hush_v1_UnlockResponse__Output>): grpc.ClientUnaryCall;
  unlock(argument: _hush_v1_UnlockRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_hush_v1_UnlockResponse__Output>): grpc.ClientUnaryCall;
  unlock(argument: _hush_v1_UnlockRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_hush_v1_UnlockResponse__Output>): grpc.ClientUnaryCall;
  unlock(argument: _hush_v1_UnlockRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_hush_v1_UnlockResponse__Output>): grpc.ClientUnaryCall;
  unlock(argument: _hush_v1_UnlockRequest, callback: grpc.requestCallback<_hush_v1_UnlockResponse__Output>): grpc.ClientUnaryCall;
  
  UpdateNode(argument: _hush_v1_UpdateNodeRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_hush_v1_Node__Output>): grpc.ClientUnaryCall;
  UpdateNode(argument: _hush_v1_UpdateNodeRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_hush_v1_Node__Output>): grpc.ClientUnaryCall;
  UpdateNode(argument: _hush_v1_UpdateNodeRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_hush_v1_Node__Output>): grpc.ClientUnaryCall;
  UpdateNode(argument: _hush_v1_UpdateNodeRequest, callback: grpc.requestCallback<_hush_v1_Node__Output>): grpc.ClientUnaryCall;
  updateNode(argument: _hush_v1_UpdateNodeRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_hush_v1_Node__Output>): grpc.ClientUnaryCall;
  updateNode(argument: _hush_v1_UpdateNodeRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_hush_v1_Node__Output>): grpc.ClientUnaryCall;
  updateNode(argument: _hush_v1_UpdateNodeRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_hush_v1_Node__Output>): grpc.ClientUnaryCall;
  updateNode(argument: _hush_v1_UpdateNodeRequest, callback: grpc.requestCallback<_hush_v1_Node__Output>): grpc.ClientUnaryCall;
  
  UpdateSecret(argument: _hush_v1_UpdateSecretRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_hush_v1_SecretResponse__Output>): grpc.ClientUnaryCall;
  UpdateSecret(argument: _hush_v1_UpdateSecretRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_hush_v1_SecretResponse__Output>): grpc.ClientUnaryCall;
  UpdateSecret(argument: _hush_v1_UpdateSecretRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_hush_v1_SecretResponse__Output>): grpc.ClientUnaryCall;
  UpdateSecret(argument: _hush_v1_UpdateSecretRequest, callback: grpc.requestCallback<_hush_v1_SecretResponse__Output>): grpc.ClientUnaryCall;
  updateSecret(argument: _hush_v1_UpdateSecretRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_hush_v1_SecretResponse__Output>): grpc.ClientUnaryCall;
  updateSecret(argument: _hush_v1_UpdateSecretRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_hush_v1_SecretResponse__Output>): grpc.ClientUnaryCall;
  updateSecret(argument: _hush_v1_UpdateSecretRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_hush_v1_SecretResponse__Output>): grpc.ClientUnaryCall;
  updateSecret(argument: _hush_v1_UpdateSecretRequest, callback: grpc.requestCallback<_hush_v1_SecretResponse__Output>): grpc.ClientUnaryCall;
  
  UpdateService(argument: _hush_v1_UpdateServiceRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_hush_v1_Service__Output>): grpc.ClientUnaryCall;
  UpdateService(argument: _hush_v1_UpdateServiceRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_hush_v1_Service__Output>): grpc.ClientUnaryCall;
  UpdateService(argument: _hush_v1_UpdateServiceRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_hush_v1_Service__Output>): grpc.ClientUnaryCall;
  UpdateService(argument: _hush_v1_UpdateServiceRequest, callback: grpc.requestCallback<_hush_v1_Service__Output>): grpc.ClientUnaryCall;
  updateService(argument: _hush_v1_UpdateServiceRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_hush_v1_Service__Output>): grpc.ClientUnaryCall;
  updateService(argument: _hush_v1_UpdateServiceRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_hush_v1_Service__Output>): grpc.ClientUnaryCall;
  updateService(argument: _hush_v1_UpdateServiceRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_hush_v1_Service__Output>): grpc.ClientUnaryCall;
  updateService(argument: _hush_v1_UpdateServiceRequest, callback: grpc.requestCallback<_hush_v1_Service__Output>): grpc.ClientUnaryCall;
  
}

export interface ControlHandlers extends grpc.UntypedServiceImplementation {
  CreateSecret: grpc.handleUnaryCall<_hush_v1_CreateSecretRequest__Output, _hush_v1_SecretResponse>;
  
  CreateService: grpc.handleUnaryCall<_hush_v1_CreateServiceRequest__Output, _hush_v1_Service>;
  
  GetJoinToken: grpc.handleUnaryCall<_hush_v1_GetJoinTokenRequest__Output, _hush_v1_GetJoinTokenResponse>;
  
  GetManagerStatus: grpc.handleUnaryCall<_hush_v1_GetManagerStatusRequest__Output, _hush_v1_ManagerStatus>;
  
  GetNode: grpc.handleUnaryCall<_hush_v1_GetNodeRequest__Output, _hush_v1_Node>;
  
  GetSecret: grpc.handleUnaryCall<_hush_v1_GetSecretRequest__Output, _hush_v1_SecretResponse>;
  
  GetService: grpc.handleUnaryCall<_hush_v1_GetServiceRequest__Output, _hush_v1_Service>;
  
  GetUnlockKey: grpc.handleUnaryCall<_hush_v1_GetUnlockKeyRequest__Output, _hush_v1_GetUnlockKeyResponse>;
  
  ListManagers: grpc.handleUnaryCall<_hush_v1_ListManagersRequest__Output, _hush_v1_ListManagersResponse>;
  
  ListNodes: grpc.handleUnaryCall<_hush_v1_ListNodesRequest__Output, _hush_v1_ListNodesResponse>;
  
  ListSecrets: grpc.handleUnaryCall<_hush_v1_ListSecretsRequest__Output, _hush_v1_ListSecretsResponse>;
  
  ListServices: grpc.handleUnaryCall<_hush_v1_ListServicesRequest__Output, _hush_v1_ListServicesResponse>;
  
  ListTasks: grpc.handleUnaryCall<_hush_v1_ListTasksRequest__Output, _hush_v1_ListTasksResponse>;
  
  RemoveManager: grpc.handleUnaryCall<_hush_v1_RemoveManagerRequest__Output, _hush_v1_RemoveManagerResponse>;
  
  RemoveNode: grpc.handleUnaryCall<_hush_v1_RemoveNodeRequest__Output, _hush_v1_RemoveNodeResponse>;
  
  RemoveSecret: grpc.handleUnaryCall<_hush_v1_RemoveSecretRequest__Output, _hush_v1_RemoveSecretResponse>;
  
  RemoveService: grpc.handleUnaryCall<_hush_v1_RemoveServiceRequest__Output, _hush_v1_RemoveServiceResponse>;
  
  Unlock: grpc.handleUnaryCall<_hush_v1_UnlockRequest__Output, _hush_v1_UnlockResponse>;
  
  UpdateNode: grpc.handleUnaryCall<_hush_v1_UpdateNodeRequest__Output, _hush_v1_Node>;
  
  UpdateSecret: grpc.handleUnaryCall<_hush_v1_UpdateSecretRequest__Output, _hush_v1_SecretResponse>;
  
  UpdateService: grpc.handleUnaryCall<_hush_v1_UpdateServiceRequest__Output, _hush_v1_Service>;
  
}

export interface ControlDefinition extends grpc.ServiceDefinition {
  CreateSecret: MethodDefinition<_hush_v1_CreateSecretRequest, _hush_v1_SecretResponse, _hush_v1_CreateSecretRequest__Output, _hush_v1_SecretResponse__Output>
  CreateService: MethodDefinition<_hush_v1_CreateServiceRequest, _hush_v1_Service, _hush_v1_CreateServiceRequest__Output, _hush_v1_Service__Output>
  GetJoinToken: MethodDefinition<_hush_v1_GetJoinTokenRequest, _hush_v1_GetJoinTokenResponse, _hush_v1_GetJoinTokenRequest__Output, _hush_v1_GetJoinTokenResponse__Output>
  GetManagerStatus: MethodDefinition<_hush_v1_GetManagerStatusRequest, _hush_v1_ManagerStatus, _hush_v1_GetManagerStatusRequest__Output, _hush_v1_ManagerStatus__Output>
  GetNode: MethodDefinition<_hush_v1_GetNodeRequest, _hush_v1_Node, _hush_v1_GetNodeRequest__Output, _hush_v1_Node__Output>
  GetSecret: MethodDefinition<_hush_v1_GetSecretRequest, _hush_v1_SecretResponse, _hush_v1_GetSecretRequest__Output, _hush_v1_SecretResponse__Output>
  GetService: MethodDefinition<_hush_v1_GetServiceRequest, _hush_v1_Service, _hush_v1_GetServiceRequest__Output, _hush_v1_Service__Output>
  GetUnlockKey: MethodDefinition<_hush_v1_GetUnlockKeyRequest, _hush_v1_GetUnlockKeyResponse, _hush_v1_GetUnlockKeyRequest__Output, _hush_v1_GetUnlockKeyResponse__Output>
  ListManagers: MethodDefinition<_hush_v1_ListManagersRequest, _hush_v1_ListManagersResponse, _hush_v1_ListManagersRequest__Output, _hush_v1_ListManagersResponse__Output>
  ListNodes: MethodDefinition<_hush_v1_ListNodesRequest, _hush_v1_ListNodesResponse, _hush_v1_ListNodesRequest__Output, _hush_v1_ListNodesResponse__Output>
  ListSecrets: MethodDefinition<_hush_v1_ListSecretsRequest, _hush_v1_ListSecretsResponse, _hush_v1_ListSecretsRequest__Output, _hush_v1_ListSecretsResponse__Output>
  ListServices: MethodDefinition<_hush_v1_ListServicesRequest, _hush_v1_ListServicesResponse, _hush_v1_ListServicesRequest__Output, _hush_v1_ListServicesResponse__Output>
  ListTasks: MethodDefinition<_hush_v1_ListTasksRequest, _hush_v1_ListTasksResponse, _hush_v1_ListTasksRequest__Output, _hush_v1_ListTasksResponse__Output>
  RemoveManager: MethodDefinition<_hush_v1_RemoveManagerRequest, _hush_v1_RemoveManagerResponse, _hush_v1_RemoveManagerRequest__Output, _hush_v1_RemoveManagerResponse__Output>
  RemoveNode: MethodDefinition<_hush_v1_RemoveNodeRequest, _hush_v1_RemoveNodeResponse, _hush_v1_RemoveNodeRequest__Output, _hush_v1_RemoveNodeResponse__Output>
  RemoveSecret: MethodDefinition<_hush_v1_RemoveSecretRequest, _hush_v1_RemoveSecretResponse, _hush_v1_RemoveSecretRequest__Output, _hush_v1_RemoveSecretResponse__Output>
  RemoveService: MethodDefinition<_hush_v1_RemoveServiceRequest, _hush_v1_RemoveServiceResponse, _hush_v1_RemoveServiceRequest__Output, _hush_v1_RemoveServiceResponse__Output>
  Unlock: MethodDefinition<_hush_v1_UnlockRequest, _hush_v1_UnlockResponse, _hush_v1_UnlockRequest__Output, _hush_v1_UnlockResponse__Output>
  UpdateNode: MethodDefinition<_hush_v1_UpdateNodeRequest, _hush_v1_Node, _hush_v1_UpdateNodeRequest__Output, _hush_v1_Node__Output>
  UpdateSecret: MethodDefinition<_hush_v1_UpdateSecretRequest, _hush_v1_SecretResponse, _hush_v1_UpdateSecretRequest__Output, _hush_v1_SecretResponse__Output>
  UpdateService: MethodDefinition<_hush_v1_UpdateServiceRequest, _hush_v1_Service, _hush_v1_UpdateServiceRequest__Output, _hush_v1_Service__Output>
}
