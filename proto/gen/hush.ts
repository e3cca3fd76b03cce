import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { AssignedSecret as _hush_v1_AssignedSecret, AssignedSecret__Output as _hush_v1_AssignedSecret__Output } from './hush/v1/AssignedSecret.js';
import type { AssignedTask as _hush_v1_AssignedTask, AssignedTask__Output as _hush_v1_AssignedTask__Output } from './hush/v1/AssignedTask.js';
import type { Assignment as _hush_v1_Assignment, Assignment__Output as _hush_v1_Assignment__Output } from './hush/v1/Assignment.js';
import type { AssignmentChange as _hush_v1_AssignmentChange, AssignmentChange__Output as _hush_v1_AssignmentChange__Output } from './hush/v1/AssignmentChange.js';
import type { AssignmentsMessage as _hush_v1_AssignmentsMessage, AssignmentsMessage__Output as _hush_v1_AssignmentsMessage__Output } from './hush/v1/AssignmentsMessage.js';
import type { AssignmentsRequest as _hush_v1_AssignmentsRequest, AssignmentsRequest__Output as _hush_v1_AssignmentsRequest__Output } from './hush/v1/AssignmentsRequest.js';
import type { CAClient as _hush_v1_CAClient, CADefinition as _hush_v1_CADefinition } from './hush/v1/CA.js';
import type { ControlClient as _hush_v1_ControlClient, ControlDefinition as _hush_v1_ControlDefinition } from './hush/v1/Control.js';
import type { CreateSecretRequest as _hush_v1_CreateSecretRequest, CreateSecretRequest__Output as _hush_v1_CreateSecretRequest__Output } from './hush/v1/CreateSecretRequest.js';
import type { CreateServiceRequest as _hush_v1_CreateServiceRequest, CreateServiceRequest__Output as _hush_v1_CreateServiceRequest__Output } from './hush/v1/CreateServiceRequest.js';
import type { DispatcherClient as _hush_v1_DispatcherClient, DispatcherDefinition as _hush_v1_DispatcherDefinition } from './hush/v1/Dispatcher.js';
import type { GetJoinTokenRequest as _hush_v1_GetJoinTokenRequest, GetJoinTokenRequest__Output as _hush_v1_GetJoinTokenRequest__Output } from './hush/v1/GetJoinTokenRequest.js';
import type { GetJoinTokenResponse as _hush_v1_GetJoinTokenResponse, GetJoinTokenResponse__Output as _hush_v1_GetJoinTokenResponse__Output } from './hush/v1/GetJoinTokenResponse.js';
import type { GetManagerStatusRequest as _hush_v1_GetManagerStatusRequest, GetManagerStatusRequest__Output as _hush_v1_GetManagerStatusRequest__Output } from './hush/v1/GetManagerStatusRequest.js';
import type { GetNodeRequest as _hush_v1_GetNodeRequest, GetNodeRequest__Output as _hush_v1_GetNodeRequest__Output } from './hush/v1/GetNodeRequest.js';
import type { GetRootCACertificateRequest as _hush_v1_GetRootCACertificateRequest, GetRootCACertificateRequest__Output as _hush_v1_GetRootCACertificateRequest__Output } from './hush/v1/GetRootCACertificateRequest.js';
import type { GetRootCACertificateResponse as _hush_v1_GetRootCACertificateResponse, GetRootCACertificateResponse__Output as _hush_v1_GetRootCACertificateResponse__Output } from './hush/v1/GetRootCACertificateResponse.js';
import type { GetSecretRequest as _hush_v1_GetSecretRequest, GetSecretRequest__Output as _hush_v1_GetSecretRequest__Output } from './hush/v1/GetSecretRequest.js';
import type { GetServiceRequest as _hush_v1_GetServiceRequest, GetServiceRequest__Output as _hush_v1_GetServiceRequest__Output } from './hush/v1/GetServiceRequest.js';
import type { GetUnlockKeyRequest as _hush_v1_GetUnlockKeyRequest, GetUnlockKeyRequest__Output as _hush_v1_GetUnlockKeyRequest__Output } from './hush/v1/GetUnlockKeyRequest.js';
import type { GetUnlockKeyResponse as _hush_v1_GetUnlockKeyResponse, GetUnlockKeyResponse__Output as _hush_v1_GetUnlockKeyResponse__Output } from './hush/v1/GetUnlockKeyResponse.js';
import type { HeartbeatRequest as _hush_v1_HeartbeatRequest, HeartbeatRequest__Output as _hush_v1_HeartbeatRequest__Output } from './hush/v1/HeartbeatRequest.js';
import type { HeartbeatResponse as _hush_v1_HeartbeatResponse, HeartbeatResponse__Output as _hush_v1_HeartbeatResponse__Output } from './hush/v1/HeartbeatResponse.js';
import type { IssueNodeCertificateRequest as _hush_v1_IssueNodeCertificateRequest, IssueNodeCertificateRequest__Output as _hush_v1_IssueNodeCertificateRequest__Output } from './hush/v1/IssueNodeCertificateRequest.js';
import type { IssueNodeCertificateResponse as _hush_v1_IssueNodeCertificateResponse, IssueNodeCertificateResponse__Output as _hush_v1_IssueNodeCertificateResponse__Output } from './hush/v1/IssueNodeCertificateResponse.js';
import type { JoinManagerRequest as _hush_v1_JoinManagerRequest, JoinManagerRequest__Output as _hush_v1_JoinManagerRequest__Output } from './hush/v1/JoinManagerRequest.js';
import type { JoinManagerResponse as _hush_v1_JoinManagerResponse, JoinManagerResponse__Output as _hush_v1_JoinManagerResponse__Output } from './hush/v1/JoinManagerResponse.js';
import type { ListManagersRequest as _hush_v1_ListManagersRequest, ListManagersRequest__Output as _hush_v1_ListManagersRequest__Output } from './hush/v1/ListManagersRequest.js';
import type { ListManagersResponse as _hush_v1_ListManagersResponse, ListManagersResponse__Output as _hush_v1_ListManagersResponse__Output } from './hush/v1/ListManagersResponse.js';
import type { ListNodesRequest as _hush_v1_ListNodesRequest, ListNodesRequest__Output as _hush_v1_ListNodesRequest__Output } from './hush/v1/ListNodesRequest.js';
import type { ListNodesResponse as _hush_v1_ListNodesResponse, ListNodesResponse__Output as _hush_v1_ListNodesResponse__Output } from './hush/v1/ListNodesResponse.js';
import type { ListSecretsRequest as _hush_v1_ListSecretsRequest, ListSecretsRequest__Output as _hush_v1_ListSecretsRequest__Output } from './hush/v1/ListSecretsRequest.js';
import type { ListSecretsResponse as _hush_v1_ListSecretsResponse, ListSecretsResponse__Output as _hush_v1_ListSecretsResponse__Output } from './hush/v1/ListSecretsResponse.js';
import type { ListServicesRequest as _hush_v1_ListServicesRequest, ListServicesRequest__Output as _hush_v1_ListServicesRequest__Output } from './hush/v1/ListServicesRequest.js';
import type { ListServicesResponse as _hush_v1_ListServicesResponse, ListServicesResponse__Output as _hush_v1_ListServicesResponse__Output } from './hush/v1/ListServicesResponse.js';
import type { ListTasksRequest as _hush_v1_ListTasksRequest, ListTasksRequest__Output as _hush_v1_ListTasksRequest__Output } from './hush/v1/ListTasksRequest.js';
import type { ListTasksResponse as _hush_v1_ListTasksResponse, ListTasksResponse__Output as _hush_v1_ListTasksResponse__Output } from './hush/v1/ListTasksResponse.js';
import type { ManagerInfo as _hush_v1_ManagerInfo, ManagerInfo__Output as _hush_v1_ManagerInfo__Output } from './hush/v1/ManagerInfo.js';
import type { ManagerStatus as _hush_v1_ManagerStatus, ManagerStatus__Output as _hush_v1_ManagerStatus__Output } from './hush/v1/ManagerStatus.js';
import type { Node as _hush_v1_Node, Node__Output as _hush_v1_Node__Output } from './hush/v1/Node.js';
import type { RemoveManagerRequest as _hush_v1_RemoveManagerRequest, RemoveManagerRequest__Output as _hush_v1_RemoveManagerRequest__Output } from './hush/v1/RemoveManagerRequest.js';
import type { RemoveManagerResponse as _hush_v1_RemoveManagerResponse, RemoveManagerResponse__Output as _hush_v1_RemoveManagerResponse__Output } from './hush/v1/RemoveManagerResponse.js';
import type { RemoveNodeRequest as _hush_v1_RemoveNodeRequest, RemoveNodeRequest__Output as _hush_v1_RemoveNodeRequest__Output } from './hush/v1/RemoveNodeRequest.js';
import type { RemoveNodeResponse as _hush_v1_RemoveNodeResponse, RemoveNodeResponse__Output as _hush_v1_RemoveNodeResponse__Output } from './hush/v1/RemoveNodeResponse.js';
import type { RemoveSecretRequest as _hush_v1_RemoveSecretRequest, RemoveSecretRequest__Output as _hush_v1_RemoveSecretRequest__Output } from './hush/v1/RemoveSecretRequest.js';
import type { RemoveSecretResponse as _hush_v1_RemoveSecretResponse, RemoveSecretResponse__Output as _hush_v1_RemoveSecretResponse__Output } from './hush/v1/RemoveSecretResponse.js';
import type { RemoveServiceRequest as _hush_v1_RemoveServiceRequest, RemoveServiceRequest__Output as _hush_v1_RemoveServiceRequest__Output } from './hush/v1/RemoveServiceRequest.js';
import type { RemoveServiceResponse as _hush_v1_RemoveServiceResponse, RemoveServiceResponse__Output as _hush_v1_RemoveServiceResponse__Output } from './hush/v1/RemoveServiceResponse.js';
import type { RenewNodeCertificateRequest as _hush_v1_RenewNodeCertificateRequest, RenewNodeCertificateRequest__Output as _hush_v1_RenewNodeCertificateRequest__Output } from './hush/v1/RenewNodeCertificateRequest.js';
import type { Secret as _hush_v1_Secret, Secret__Output as _hush_v1_Secret__Output } from './hush/v1/Secret.js';
import type { SecretReference as _hush_v1_SecretReference, SecretReference__Output as _hush_v1_SecretReference__Output } from './hush/v1/SecretReference.js';
import type { SecretResponse as _hush_v1_SecretResponse, SecretResponse__Output as _hush_v1_SecretResponse__Output } from './hush/v1/SecretResponse.js';
import type { SecretVersion as _hush_v1_SecretVersion, SecretVersion__Output as _hush_v1_SecretVersion__Output } from './hush/v1/SecretVersion.js';
import type { Service as _hush_v1_Service, Service__Output as _hush_v1_Service__Output } from './hush/v1/Service.js';
import type { ServiceSecretReference as _hush_v1_ServiceSecretReference, ServiceSecretReference__Output as _hush_v1_ServiceSecretReference__Output } from './hush/v1/ServiceSecretReference.js';
import type { Task as _hush_v1_Task, Task__Output as _hush_v1_Task__Output } from './hush/v1/Task.js';
import type { TaskStatus as _hush_v1_TaskStatus, TaskStatus__Output as _hush_v1_TaskStatus__Output } from './hush/v1/TaskStatus.js';
import type { UnlockRequest as _hush_v1_UnlockRequest, UnlockRequest__Output as _hush_v1_UnlockRequest__Output } from './hush/v1/UnlockRequest.js';
import type { UnlockResponse as _hush_v1_UnlockResponse, UnlockResponse__Output as _hush_v1_UnlockResponse__Output } from './hush/v1/UnlockResponse.js';
import type { UpdateNodeRequest as _hush_v1_UpdateNodeRequest, UpdateNodeRequest__Output as _hush_v1_UpdateNodeRequest__Output } from './hush/v1/UpdateNodeRequest.js';
import type { UpdateSecretRequest as _hush_v1_UpdateSecretRequest, UpdateSecretRequest__Output as _hush_v1_UpdateSecretRequest__Output } from './hush/v1/UpdateSecretRequest.js';
import type { UpdateServiceRequest as _hush_v1_UpdateServiceRequest, UpdateServiceRequest__Output as _hush_v1_UpdateServiceRequest__Output } from './hush/v1/UpdateServiceRequest.js';
import type { UpdateTaskStatusRequest as _hush_v1_UpdateTaskStatusRequest, UpdateTaskStatusRequest__Output as _hush_v1_UpdateTaskStatusRequest__Output } from './hush/v1/UpdateTaskStatusRequest.js';
import type { UpdateTaskStatusResponse as _hush_v1_UpdateTaskStatusResponse, UpdateTaskStatusResponse__Output as _hush_v1_UpdateTaskStatusResponse__Output } from './hush/v1/UpdateTaskStatusResponse.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  hush: {
    v1: {
      AssignedSecret: MessageTypeDefinition<_hush_v1_AssignedSecret, _hush_v1_AssignedSecret__Output>
      AssignedTask: MessageTypeDefinition<_hush_v1_AssignedTask, _hush_v1_AssignedTask__Output>
      Assignment: MessageTypeDefinition<_hush_v1_Assignment, _hush_v1_Assignment__Output>
      AssignmentChange: MessageTypeDefinition<_hush_v1_AssignmentChange, _hush_v1_AssignmentChange__Output>
      AssignmentsMessage: MessageTypeDefinition<_hush_v1_AssignmentsMessage, _hush_v1_AssignmentsMessage__Output>
      AssignmentsRequest: MessageTypeDefinition<_hush_v1_AssignmentsRequest, _hush_v1_AssignmentsRequest__Output>
      CA: SubtypeConstructor<typeof grpc.Client, _hush_v1_CAClient> & { service: _hush_v1_CADefinition }
      Control: SubtypeConstructor<typeof grpc.Client, _hush_v1_ControlClient> & { service: _hush_v1_ControlDefinition }
      CreateSecretRequest: MessageTypeDefinition<_hush_v1_CreateSecretRequest, _hush_v1_CreateSecretRequest__Output>
      CreateServiceRequest: MessageTypeDefinition<_hush_v1_CreateServiceRequest, _hush_v1_CreateServiceRequest__Output>
      Dispatcher: SubtypeConstructor<typeof grpc.Client, _hush_v1_DispatcherClient> & { service: _hush_v1_DispatcherDefinition }
      GetJoinTokenRequest: MessageTypeDefinition<_hush_v1_GetJoinTokenRequest, _hush_v1_GetJoinTokenRequest__Output>
      GetJoinTokenResponse: MessageTypeDefinition<_hush_v1_GetJoinTokenResponse, _hush_v1_GetJoinTokenResponse__Output>
      GetManagerStatusRequest: MessageTypeDefinition<_hush_v1_GetManagerStatusRequest, _hush_v1_GetManagerStatusRequest__Output>
      GetNodeRequest: MessageTypeDefinition<_hush_v1_GetNodeRequest, _hush_v1_GetNodeRequest__Output>
      GetRootCACertificateRequest: MessageTypeDefinition<_hush_v1_GetRootCACertificateRequest, _hush_v1_GetRootCACertificateRequest__Output>
      GetRootCACertificateResponse: MessageTypeDefinition<_hush_v1_GetRootCACertificateResponse, _hush_v1_GetRootCACertificateResponse__Output>
      GetSecretRequest: MessageTypeDefinition<_hush_v1_GetSecretRequest, _hush_v1_GetSecretRequest__Output>
      GetServiceRequest: MessageTypeDefinition<_hush_v1_GetServiceRequest, _hush_v1_GetServiceRequest__Output>
      GetUnlockKeyRequest: MessageTypeDefinition<_hush_v1_GetUnlockKeyRequest, _hush_v1_GetUnlockKeyRequest__Output>
      GetUnlockKeyResponse: MessageTypeDefinition<_hush_v1_GetUnlockKeyResponse, _hush_v1_GetUnlockKeyResponse__Output>
      HeartbeatRequest: MessageTypeDefinition<_hush_v1_HeartbeatRequest, _hush_v1_HeartbeatRequest__Output>
      HeartbeatResponse: MessageTypeDefinition<_hush_v1_HeartbeatResponse, _hush_v1_HeartbeatResponse__Output>
      IssueNodeCertificateRequest: MessageTypeDefinition<_hush_v1_IssueNodeCertificateRequest, _hush_v1_IssueNodeCertificateRequest__Output>
      IssueNodeCertificateResponse: MessageTypeDefinition<_hush_v1_IssueNodeCertificateResponse, _hush_v1_IssueNodeCertificateResponse__Output>
      JoinManagerRequest: MessageTypeDefinition<_hush_v1_JoinManagerRequest, _hush_v1_JoinManagerRequest__Output>
      JoinManagerResponse: MessageTypeDefinition<_hush_v1_JoinManagerResponse, _hush_v1_JoinManagerResponse__Output>
      ListManagersRequest: MessageTypeDefinition<_hush_v1_ListManagersRequest, _hush_v1_ListManagersRequest__Output>
      ListManagersResponse: MessageTypeDefinition<_hush_v1_ListManagersResponse, _hush_v1_ListManagersResponse__Output>
      ListNodesRequest: MessageTypeDefinition<_hush_v1_ListNodesRequest, _hush_v1_ListNodesRequest__Output>
      ListNodesResponse: MessageTypeDefinition<_hush_v1_ListNodesResponse, _hush_v1_ListNodesResponse__Output>
      ListSecretsRequest: MessageTypeDefinition<_hush_v1_ListSecretsRequest, _hush_v1_ListSecretsRequest__Output>
      ListSecretsResponse: MessageTypeDefinition<_hush_v1_ListSecretsResponse, _hush_v1_ListSecretsResponse__Output>
      ListServicesRequest: MessageTypeDefinition<_hush_v1_ListServicesRequest, _hush_v1_ListServicesRequest__Output>
      ListServicesResponse: MessageTypeDefinition<_hush_v1_ListServicesResponse, _hush_v1_ListServicesResponse__Output>
      ListTasksRequest: MessageTypeDefinition<_hush_v1_ListTasksRequest, _hush_v1_ListTasksRequest__Output>
      ListTasksResponse: MessageTypeDefinition<_hush_v1_ListTasksResponse, _hush_v1_ListTasksResponse__Output>
      ManagerInfo: MessageTypeDefinition<_hush_v1_ManagerInfo, _hush_v1_ManagerInfo__Output>
      ManagerStatus: MessageTypeDefinition<_hush_v1_ManagerStatus, _hush_v1_ManagerStatus__Output>
      Node: MessageTypeDefinition<_hush_v1_Node, _hush_v1_Node__Output>
      RemoveManagerRequest: MessageTypeDefinition<_hush_v1_RemoveManagerRequest, _hush_v1_RemoveManagerRequest__Output>
      RemoveManagerResponse: MessageTypeDefinition<_hush_v1_RemoveManagerResponse, _hush_v1_RemoveManagerResponse__Output>
      RemoveNodeRequest: MessageTypeDefinition<_hush_v1_RemoveNodeRequest, _hush_v1_RemoveNodeRequest__Output>
      RemoveNodeResponse: MessageTypeDefinition<_hush_v1_RemoveNodeResponse, _hush_v1_RemoveNodeResponse__Output>
      RemoveSecretRequest: MessageTypeDefinition<_hush_v1_RemoveSecretRequest, _hush_v1_RemoveSecretRequest__Output>
      RemoveSecretResponse: MessageTypeDefinition<_hush_v1_RemoveSecretResponse, _hush_v1_RemoveSecretResponse__Output>
      RemoveServiceRequest: MessageTypeDefinition<_hush_v1_RemoveServiceRequest, _hush_v1_RemoveServiceRequest__Output>
      RemoveServiceResponse: MessageTypeDefinition<_hush_v1_RemoveServiceResponse, _hush_v1_RemoveServiceResponse__Output>
      RenewNodeCertificateRequest: MessageTypeDefinition<_hush_v1_RenewNodeCertificateRequest, _hush_v1_RenewNodeCertificateRequest__Output>
      Secret: MessageTypeDefinition<_hush_v1_Secret, _hush_v1_Secret__Output>
      SecretReference: MessageTypeDefinition<_hush_v1_SecretReference, _hush_v1_SecretReference__Output>
      SecretResponse: MessageTypeDefinition<_hush_v1_SecretResponse, _hush_v1_SecretResponse__Output>
      SecretVersion: MessageTypeDefinition<_hush_v1_SecretVersion, _hush_v1_SecretVersion__Output>
      Service: MessageTypeDefinition<_hush_v1_Service, _hush_v1_Service__Output>
      ServiceSecretReference: MessageTypeDefinition<_hush_v1_ServiceSecretReference, _hush_v1_ServiceSecretReference__Output>
      Task: MessageTypeDefinition<_hush_v1_Task, _hush_v1_Task__Output>
      TaskStatus: MessageTypeDefinition<_hush_v1_TaskStatus, _hush_v1_TaskStatus__Output>
      UnlockRequest: MessageTypeDefinition<_hush_v1_UnlockRequest, _hush_v1_UnlockRequest__Output>
      UnlockResponse: MessageTypeDefinition<_hush_v1_UnlockResponse, _hush_v1_UnlockResponse__Output>
      UpdateNodeRequest: MessageTypeDefinition<_hush_v1_UpdateNodeRequest, _hush_v1_UpdateNodeRequest__Output>
      UpdateSecretRequest: MessageTypeDefinition<_hush_v1_UpdateSecretRequest, _hush_v1_UpdateSecretRequest__Output>
      UpdateServiceRequest: MessageTypeDefinition<_hush_v1_UpdateServiceRequest, _hush_v1_UpdateServiceRequest__Output>
      UpdateTaskStatusRequest: MessageTypeDefinition<_hush_v1_UpdateTaskStatusRequest, _hush_v1_UpdateTaskStatusRequest__Output>
      UpdateTaskStatusResponse: MessageTypeDefinition<_hush_v1_UpdateTaskStatusResponse, _hush_v1_UpdateTaskStatusResponse__Output>
    }
  }
}

