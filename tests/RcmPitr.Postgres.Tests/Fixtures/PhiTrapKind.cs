namespace RcmPitr.Postgres.Tests.Fixtures;

/// <summary>How a row is made to fail in the copy of a tenant database (and only there).</summary>
public enum PhiTrapKind
{
    /// <summary>A unique expression index whose key collapses in the copy: "Key (…)=(&lt;row value&gt;) is duplicated".</summary>
    UniqueIndex,

    /// <summary>A CHECK that fails in the copy: "Failing row contains (…)" and the COPY line.</summary>
    Check,

    /// <summary>A CHECK whose function raises an error quoting the value (free text, like a tenant's own validation).</summary>
    Raise,

    /// <summary>A CHECK whose function casts the value to integer: "invalid input syntax for type integer: "&lt;value&gt;"".</summary>
    Cast,
}
