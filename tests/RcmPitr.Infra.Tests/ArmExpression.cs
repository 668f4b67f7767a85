using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace RcmPitr.Infra.Tests;

/// <summary>
/// Where a template is deployed, for <see cref="ArmExpression"/>: parameter values and the subscription and resource
/// group that <c>subscription()</c> and <c>resourceGroup()</c> return.
/// </summary>
internal sealed record ArmScope(
    IReadOnlyDictionary<string, string> Parameters,
    string SubscriptionId = "00000000-0000-0000-0000-000000000001",
    string ResourceGroup = "rcm-prod",
    string TenantId = "00000000-0000-0000-0000-0000000000aa");

/// <summary>
/// Evaluates the ARM template expressions the templates compile names to (<c>[format(...)]</c>, <c>[variables(...)]</c>,
/// …), so a test can check the names a deployment would create without Azure. Only the functions those names use are
/// known; any other fails the test loudly. <c>uniqueString</c> and <c>guid</c> are stand-ins with ARM's shape (13
/// characters of <c>[a-z0-9]</c>; a GUID), deterministic in their arguments, not ARM's exact values.
/// </summary>
internal sealed class ArmExpression
{
    private readonly JsonObject _template;
    private readonly ArmScope _scope;
    private string _text = string.Empty;
    private int _position;

    private ArmExpression(JsonObject template, ArmScope scope)
    {
        _template = template;
        _scope = scope;
    }

    /// <summary>The value of <paramref name="value"/> (a literal or a <c>[…]</c> expression) in <paramref name="template"/>.</summary>
    public static object? Evaluate(JsonObject template, ArmScope scope, string value) => new ArmExpression(template, scope).EvaluateText(value);

    /// <summary>The string <paramref name="value"/> evaluates to.</summary>
    public static string EvaluateString(JsonObject template, ArmScope scope, string value) =>
        Evaluate(template, scope, value) as string ?? throw new InvalidOperationException($"{value} is not a string");

    private object? EvaluateText(string value)
    {
        if (!value.StartsWith('[') || !value.EndsWith(']'))
        {
            return value;
        }

        if (value.StartsWith("[[", StringComparison.Ordinal))
        {
            return value[1..];
        }

        var saved = (_text, _position);
        (_text, _position) = (value[1..^1], 0);
        var result = ParseExpression();
        SkipSpaces();
        if (_position != _text.Length)
        {
            throw new FormatException($"unexpected '{_text[_position..]}' in {value}");
        }

        (_text, _position) = saved;
        return result;
    }

    private object? ParseExpression()
    {
        SkipSpaces();
        var value = ParsePrimary();
        while (true)
        {
            SkipSpaces();
            if (Peek('.'))
            {
                _position++;
                var name = ParseIdentifier();
                value = value is IReadOnlyDictionary<string, object?> members && members.TryGetValue(name, out var member)
                    ? member
                    : throw new NotSupportedException($"no property '{name}' on {value}");
            }
            else if (Peek('['))
            {
                _position++;
                var index = ParseExpression();
                Expect(']');
                value = value is IReadOnlyList<object?> items ? items[Convert.ToInt32(index, CultureInfo.InvariantCulture)] : throw new NotSupportedException($"cannot index {value}");
            }
            else
            {
                return value;
            }
        }
    }

    private object? ParsePrimary()
    {
        if (Peek('\''))
        {
            return ParseString();
        }

        if (_position < _text.Length && (char.IsAsciiDigit(_text[_position]) || _text[_position] == '-'))
        {
            var start = _position++;
            while (_position < _text.Length && char.IsAsciiDigit(_text[_position]))
            {
                _position++;
            }

            return long.Parse(_text[start.._position], CultureInfo.InvariantCulture);
        }

        var name = ParseIdentifier();
        SkipSpaces();
        Expect('(');
        var arguments = new List<object?>();
        SkipSpaces();
        if (!Peek(')'))
        {
            do
            {
                arguments.Add(ParseExpression());
                SkipSpaces();
            }
            while (TryTake(','));
        }

        Expect(')');
        return Call(name, arguments);
    }

    private object? Call(string name, List<object?> arguments) => name.ToLowerInvariant() switch
    {
        "parameters" => Parameter((string)arguments[0]!),
        "variables" => Variable((string)arguments[0]!),
        "format" => string.Format(CultureInfo.InvariantCulture, (string)arguments[0]!, [.. arguments.Skip(1).Select(Text)]),
        "concat" => string.Concat(arguments.Select(Text)),
        "tolower" => ((string)arguments[0]!).ToLowerInvariant(),
        "toupper" => ((string)arguments[0]!).ToUpperInvariant(),
        "take" => arguments[0] is string text
            ? text[..Math.Min(text.Length, Convert.ToInt32(arguments[1], CultureInfo.InvariantCulture))]
            : throw new NotSupportedException("take() of a non-string"),
        "length" => arguments[0] is string text ? (long)text.Length : throw new NotSupportedException("length() of a non-string"),
        "uniquestring" => UniqueString(arguments),
        "guid" => new Guid(Hash(arguments).AsSpan(0, 16)).ToString(),
        "subscription" => new Dictionary<string, object?>(StringComparer.OrdinalIgnoreCase)
        {
            ["id"] = $"/subscriptions/{_scope.SubscriptionId}",
            ["subscriptionId"] = _scope.SubscriptionId,
            ["tenantId"] = _scope.TenantId,
        },
        "tenant" => new Dictionary<string, object?>(StringComparer.OrdinalIgnoreCase) { ["tenantId"] = _scope.TenantId },
        "environment" => new Dictionary<string, object?>(StringComparer.OrdinalIgnoreCase)
        {
            ["authentication"] = new Dictionary<string, object?>(StringComparer.OrdinalIgnoreCase) { ["loginEndpoint"] = "https://login.microsoftonline.com/" },
        },
        "resourcegroup" => new Dictionary<string, object?>(StringComparer.OrdinalIgnoreCase)
        {
            ["id"] = $"/subscriptions/{_scope.SubscriptionId}/resourceGroups/{_scope.ResourceGroup}",
            ["name"] = _scope.ResourceGroup,
        },
        _ => throw new NotSupportedException($"ARM function {name}() is not known to this evaluator"),
    };

    private object? Parameter(string name)
    {
        if (_scope.Parameters.TryGetValue(name, out var value))
        {
            return value;
        }

        var declared = _template["parameters"]?[name] ?? throw new InvalidOperationException($"no parameter {name}");
        return declared["defaultValue"] is { } fallback ? FromJson(fallback) : throw new InvalidOperationException($"parameter {name} has no value");
    }

    private object? Variable(string name) =>
        FromJson(_template["variables"]?[name] ?? throw new InvalidOperationException($"no variable {name}"));

    private object? FromJson(JsonNode node) => node switch
    {
        JsonValue value when value.GetValueKind() == JsonValueKind.String => EvaluateText(value.GetValue<string>()),
        JsonValue value when value.GetValueKind() == JsonValueKind.Number => value.GetValue<long>(),
        JsonArray array => array.Select(item => item is null ? null : FromJson(item)).ToList(),
        _ => throw new NotSupportedException($"value {node.ToJsonString()}"),
    };

    private static string UniqueString(List<object?> arguments)
    {
        const string Alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
        return string.Concat(Hash(arguments).Take(13).Select(b => Alphabet[b % Alphabet.Length]));
    }

    private static byte[] Hash(List<object?> arguments) => SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('\u001f', arguments.Select(Text))));

    private static string Text(object? value) => Convert.ToString(value, CultureInfo.InvariantCulture) ?? string.Empty;

    private string ParseString()
    {
        Expect('\'');
        var builder = new StringBuilder();
        while (true)
        {
            if (_position >= _text.Length)
            {
                throw new FormatException($"unterminated string in {_text}");
            }

            var c = _text[_position++];
            if (c == '\'')
            {
                if (Peek('\''))
                {
                    builder.Append('\'');
                    _position++;
                    continue;
                }

                return builder.ToString();
            }

            builder.Append(c);
        }
    }

    private string ParseIdentifier()
    {
        var start = _position;
        while (_position < _text.Length && (char.IsAsciiLetterOrDigit(_text[_position]) || _text[_position] == '_'))
        {
            _position++;
        }

        return _position > start ? _text[start.._position] : throw new FormatException($"expected a name at {_position} in {_text}");
    }

    private void SkipSpaces()
    {
        while (_position < _text.Length && _text[_position] == ' ')
        {
            _position++;
        }
    }

    private bool Peek(char c) => _position < _text.Length && _text[_position] == c;

    private bool TryTake(char c)
    {
        if (!Peek(c))
        {
            return false;
        }

        _position++;
        return true;
    }

    private void Expect(char c)
    {
        if (!TryTake(c))
        {
            throw new FormatException($"expected '{c}' at {_position} in {_text}");
        }
    }
}
