using System.Text.Json;
using Azure.Core.Serialization;
using Microsoft.DurableTask;

namespace RcmPitr.Scenarios.Tests.Engines;

/// <summary>
/// Durable's <see cref="DataConverter"/> over an <see cref="ObjectSerializer"/>, as the Functions worker builds it from
/// <c>WorkerOptions.Serializer</c>: here over the same serializer the Functions app configures (a
/// <see cref="JsonObjectSerializer"/> with <c>FunctionsServices.Json</c>), so inputs, outputs, events and custom
/// status are the JSON the deployed app stores.
/// </summary>
internal sealed class AppSerializerDataConverter(JsonSerializerOptions options) : DataConverter
{
    private readonly ObjectSerializer _serializer = new JsonObjectSerializer(options);

    public override string? Serialize(object? value) =>
        value is null ? null : _serializer.Serialize(value, value.GetType(), CancellationToken.None).ToString();

    public override object? Deserialize(string? data, Type targetType) =>
        data is null ? null : _serializer.Deserialize(BinaryData.FromString(data).ToStream(), targetType, CancellationToken.None);
}
