// A custom role with exactly the ARM actions RcmPitr's provisioner uses, assigned on the PostgreSQL resource group.
targetScope = 'resourceGroup'

@description('Principal (the app\'s managed identity) to grant.')
param principalId string

resource role 'Microsoft.Authorization/roleDefinitions@2022-04-01' = {
  name: guid(resourceGroup().id, 'rcm-pitr-flexible-server-restorer')
  properties: {
    // Role names are unique per Microsoft Entra tenant: the subscription keeps two resource groups of one name apart.
    roleName: 'RcmPitr flexible server restorer (${subscription().subscriptionId}/${resourceGroup().name})'
    description: 'Read flexible servers, create point-in-time / geo restores, delete the servers it created; join the delegated subnet and private DNS zone a VNet-injected restore is placed in; assign a CMK source\'s identities; recreate firewall rules after a geo-restore.'
    type: 'CustomRole'
    assignableScopes: [resourceGroup().id]
    permissions: [
      {
        actions: [
          'Microsoft.DBforPostgreSQL/flexibleServers/read'
          'Microsoft.DBforPostgreSQL/flexibleServers/write'
          'Microsoft.DBforPostgreSQL/flexibleServers/delete'
          'Microsoft.DBforPostgreSQL/locations/azureAsyncOperation/read'
          'Microsoft.DBforPostgreSQL/locations/operationResults/read'
          'Microsoft.Resources/subscriptions/resourceGroups/read'
          // A restore of a VNet-injected server is placed in a delegated subnet and linked to a private DNS zone; ARM
          // checks these linked actions on the caller (LinkedAuthorizationFailed otherwise). They take effect where the
          // role is assigned: the subnet and zone must be in this resource group, or the role assigned where they are.
          'Microsoft.Network/virtualNetworks/subnets/join/action'
          'Microsoft.Network/privateDnsZones/join/action'
          // A customer-managed-key source is restored with its user-assigned identities on the new server, which ARM checks
          // as this linked action on each identity (in this resource group; elsewhere, assign Managed Identity Operator there).
          'Microsoft.ManagedIdentity/userAssignedIdentities/assign/action'
          // A geo-restored server gets the source's firewall rules recreated (region loss only).
          'Microsoft.DBforPostgreSQL/flexibleServers/firewallRules/read'
          'Microsoft.DBforPostgreSQL/flexibleServers/firewallRules/write'
        ]
        notActions: []
      }
    ]
  }
}

resource assignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(resourceGroup().id, principalId, role.id)
  properties: {
    roleDefinitionId: role.id
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}
