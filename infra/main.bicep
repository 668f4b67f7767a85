// RcmPitr production: the Durable Functions app (Linux custom container, Elastic Premium) and what it needs.
// No secrets are parameters: the app reaches storage, Key Vault and ARM with its user-assigned managed identity,
// and PostgreSQL admin passwords live in Key Vault under the names identity.db_server.admin_secret_ref gives.
targetScope = 'resourceGroup'

@description('Region of the app (the PostgreSQL servers\' region).')
param location string = resourceGroup().location

@description('Short prefix for resource names (lowercase letters and digits; it may start with a digit).')
@minLength(3)
@maxLength(11)
param namePrefix string

@description('Container image of the app, built from infra/Dockerfile, e.g. myregistry.azurecr.io/rcm-pitr:1.0.0.')
param containerImage string

@description('Login server of the registry holding the image (pulled with the managed identity).')
param containerRegistry string

@description('Resource id of that container registry (for the AcrPull role).')
param containerRegistryId string

@description('Resource group of the Flexible Servers RcmPitr restores (point-in-time servers are created there too).')
param postgresResourceGroup string

@description('Paired region for geo-restore when T is outside retention (empty: never geo-restore).')
param geoRestoreLocation string = ''

@description('Premium plan size: EP1 (1 core, 3.5 GB), EP2, EP3.')
@allowed(['EP1', 'EP2', 'EP3'])
param planSku string = 'EP2'

@description('Scratch share for dumps, in GiB: at least 2x the largest tenant database (runbook).')
@minValue(100)
param scratchShareGiB int = 200

@description('Tenants the quarterly dry run exercises (comma-separated slugs).')
param dryRunTenants string = ''

@description('Quarterly dry-run schedule (NCRONTAB, 6 fields).')
param dryRunSchedule string = '0 0 6 1 1,4,7,10 *'

@description('Host of the master (control-plane) database.')
param controlPlaneHost string

@description('Name of the master database.')
param controlPlaneDatabase string = 'rcm_master'

@description('Login for the master database.')
param controlPlaneUser string

@description('Key Vault secret name holding that login\'s password.')
param controlPlanePasswordSecretName string = 'rcm-master-password'

@description('Client (application) id of the Microsoft Entra app registration callers sign in to; its app roles RcmPitr.Requester, RcmPitr.Approver and RcmPitr.Operator become RcmPitr\'s roles.')
param authClientId string

@description('Microsoft Entra tenant of that app registration.')
param authTenantId string = tenant().tenantId

var suffix = uniqueString(resourceGroup().id, namePrefix)
var storageName = toLower('${namePrefix}st${take(suffix, 8)}')
// Key Vault names start with a letter (3-24 characters), whatever the prefix starts with.
var vaultName = toLower('kv-${namePrefix}-${take(suffix, 6)}')
var appName = toLower('${namePrefix}-pitr-${take(suffix, 6)}')
var scratchShare = 'scratch'

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: '${namePrefix}-pitr-id'
  location: location
}

resource logs 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: '${namePrefix}-pitr-logs'
  location: location
  properties: {
    sku: { name: 'PerGB2018' }
    retentionInDays: 90
  }
}

resource insights 'Microsoft.Insights/components@2020-02-02' = {
  name: '${namePrefix}-pitr-ai'
  location: location
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: logs.id
    DisableLocalAuth: true
  }
}

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: storageName
  location: location
  sku: { name: 'Standard_ZRS' }
  kind: 'StorageV2'
  properties: {
    minimumTlsVersion: 'TLS1_2'
    allowBlobPublicAccess: false
    allowSharedKeyAccess: true // Azure Files mounts on the Premium plan still need the account key
    supportsHttpsTrafficOnly: true
  }
}

resource files 'Microsoft.Storage/storageAccounts/fileServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

resource scratch 'Microsoft.Storage/storageAccounts/fileServices/shares@2023-05-01' = {
  parent: files
  name: scratchShare
  properties: {
    shareQuota: scratchShareGiB
    enabledProtocols: 'SMB'
  }
}

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: vaultName
  location: location
  properties: {
    tenantId: subscription().tenantId
    sku: { family: 'A', name: 'standard' }
    enableRbacAuthorization: true
    enableSoftDelete: true
    enablePurgeProtection: true
    softDeleteRetentionInDays: 90
  }
}

// App Service authentication in front of the function keys: every request must carry a Microsoft Entra token for the
// app registration, and the platform passes the verified caller on as X-MS-CLIENT-PRINCIPAL (the app refuses to start
// without it: WEBSITE_AUTH_ENABLED). Four eyes compares the callers' object ids from there.
resource appAuth 'Microsoft.Web/sites/config@2023-12-01' = {
  parent: app
  name: 'authsettingsV2'
  properties: {
    platform: { enabled: true }
    globalValidation: {
      requireAuthentication: true
      unauthenticatedClientAction: 'Return401'
    }
    identityProviders: {
      azureActiveDirectory: {
        enabled: true
        registration: {
          clientId: authClientId
          openIdIssuer: '${environment().authentication.loginEndpoint}${authTenantId}/v2.0'
        }
        validation: {
          allowedAudiences: [ 'api://${authClientId}', authClientId ]
        }
      }
    }
    login: { tokenStore: { enabled: false } }
  }
}

resource plan 'Microsoft.Web/serverfarms@2023-12-01' = {
  name: '${namePrefix}-pitr-plan'
  location: location
  sku: { name: planSku, tier: 'ElasticPremium' }
  kind: 'elastic'
  properties: {
    reserved: true
    maximumElasticWorkerCount: 3
  }
}

resource app 'Microsoft.Web/sites@2023-12-01' = {
  name: appName
  // The first start pulls the image with the identity and sends telemetry with it: grant both first. (A fresh role
  // assignment can still take minutes to reach the registry; the pipeline's image roll restarts the app afterwards.)
  dependsOn: [
    registryAccess
    insightsAccess
  ]
  location: location
  kind: 'functionapp,linux,container'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: { '${identity.id}': {} }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    keyVaultReferenceIdentity: identity.id
    siteConfig: {
      linuxFxVersion: 'DOCKER|${containerImage}'
      acrUseManagedIdentityCreds: true
      acrUserManagedIdentityID: identity.properties.clientId
      // No alwaysOn: Elastic Premium keeps minimumElasticInstanceCount instances warm itself, and alwaysOn there only
      // adds scale-out and 503s.
      minimumElasticInstanceCount: 1
      ftpsState: 'Disabled'
      minTlsVersion: '1.2'
      azureStorageAccounts: {
        scratch: {
          type: 'AzureFiles'
          accountName: storage.name
          shareName: scratchShare
          mountPath: '/mnt/scratch'
          accessKey: storage.listKeys().keys[0].value
        }
      }
      appSettings: [
        { name: 'FUNCTIONS_EXTENSION_VERSION', value: '~4' }
        { name: 'FUNCTIONS_WORKER_RUNTIME', value: 'dotnet-isolated' }
        { name: 'WEBSITES_ENABLE_APP_SERVICE_STORAGE', value: 'false' }
        { name: 'AzureWebJobsStorage__accountName', value: storage.name }
        { name: 'AzureWebJobsStorage__credential', value: 'managedidentity' }
        { name: 'AzureWebJobsStorage__clientId', value: identity.properties.clientId }
        { name: 'APPLICATIONINSIGHTS_CONNECTION_STRING', value: insights.properties.ConnectionString }
        { name: 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING', value: 'ClientId=${identity.properties.clientId};Authorization=AAD' }
        { name: 'AZURE_CLIENT_ID', value: identity.properties.clientId }
        { name: 'DurableTaskHubName', value: 'rcmpitr' }
        { name: 'DryRunSchedule', value: dryRunSchedule }
        { name: 'DryRun__Tenants', value: dryRunTenants }
        { name: 'KeyVault__Uri', value: vault.properties.vaultUri }
        { name: 'ControlPlane__Host', value: controlPlaneHost }
        { name: 'ControlPlane__Port', value: '5432' }
        { name: 'ControlPlane__Database', value: controlPlaneDatabase }
        { name: 'ControlPlane__Username', value: controlPlaneUser }
        { name: 'ControlPlane__PasswordSecretRef', value: controlPlanePasswordSecretName }
        { name: 'AzureArm__SubscriptionId', value: subscription().subscriptionId }
        { name: 'AzureArm__ResourceGroup', value: postgresResourceGroup }
        { name: 'AzureArm__Location', value: location }
        { name: 'AzureArm__GeoRestoreLocation', value: geoRestoreLocation }
        { name: 'DataMover__ScratchDirectory', value: '/mnt/scratch/rcm-pitr' }
        // Azure Files over SMB fixes file modes at mount time, so RcmPitr cannot check them: access to dumps is whoever
        // holds the share's key (kept in Key Vault, rotated). pgpass files never go there (private local tmpfs).
        { name: 'DataMover__ScratchIsSharedMount', value: 'true' }
        { name: 'PgConnection__SslMode', value: 'VerifyFull' }
        // pg_dump / pg_restore (libpq 16+) verify the server's certificate against the system CA store, as Npgsql does.
        { name: 'PGSSLROOTCERT', value: 'system' }
      ]
    }
  }
}

// Least privilege: blob, queue and table data roles on the task hub's storage account only.
var storageRoles = [
  'b7e6dc6d-f1e8-4753-8033-0f276bb0955b' // Storage Blob Data Owner
  '974c5e8b-45b9-4653-ba55-5f855dd0fb88' // Storage Queue Data Contributor
  '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3' // Storage Table Data Contributor
]

resource storageAccess 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for role in storageRoles: {
  name: guid(storage.id, identity.id, role)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', role)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}]

// Monitoring Metrics Publisher on Application Insights: its ingestion accepts Entra tokens only (DisableLocalAuth), so
// without this role the app's telemetry is refused.
resource insightsAccess 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(insights.id, identity.id, 'metrics-publisher')
  scope: insights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '3913510d-42f4-4e42-8a64-420c390055eb')
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

// Key Vault Secrets Officer: read admin passwords, and write the new connection secret of a flip-the-ref cutover.
resource vaultAccess 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, identity.id, 'secrets-officer')
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7')
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

resource registry 'Microsoft.ContainerRegistry/registries@2023-07-01' existing = {
  name: last(split(containerRegistryId, '/'))
  scope: resourceGroup(split(containerRegistryId, '/')[2], split(containerRegistryId, '/')[4])
}

module registryAccess 'modules/acr-pull.bicep' = {
  name: 'rcm-pitr-acr-pull'
  scope: resourceGroup(split(containerRegistryId, '/')[2], split(containerRegistryId, '/')[4])
  params: {
    registryName: registry.name
    principalId: identity.properties.principalId
  }
}

// flexibleServers read / write / delete on the PostgreSQL resource group only, through a custom role.
module postgresAccess 'modules/postgres-access.bicep' = {
  name: 'rcm-pitr-postgres-access'
  scope: resourceGroup(postgresResourceGroup)
  params: {
    principalId: identity.properties.principalId
  }
}

output functionAppName string = app.name
output functionAppHost string = app.properties.defaultHostName
output keyVaultUri string = vault.properties.vaultUri
output identityClientId string = identity.properties.clientId
output containerRegistry string = containerRegistry
