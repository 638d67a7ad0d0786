using System.Diagnostics.CodeAnalysis;

namespace Gatehouse.Configuration;

/// <summary>
/// A configuration record whose settings are its public init properties. <c>Hosting/UnappliedSettings</c> walks them
/// by reflection to name what a reload cannot apply; the annotation makes the trimmer and Native AOT keep every such
/// property of every record that implements this, so the walk sees in the shipped binary what it sees in the tests.
/// </summary>
[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicProperties)]
internal interface IConfigRecord;
