using System.Diagnostics;
using System.Globalization;
using RcmPitr.Postgres.Movers;

namespace RcmPitr.Postgres.Tests.Movers;

public sealed class CpuYieldTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("cpu-yield-").FullName;

    private string File_ => Path.Combine(_root, "autogroup");

    private string Markers => Path.Combine(_root, "markers");

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Theory]
    [InlineData("/autogroup-289111 nice 0\n", 0)]
    [InlineData("/autogroup-7 nice 19", 19)]
    [InlineData("/autogroup-7 nice -5\n", -5)]
    [InlineData("/autogroup-7", null)]
    [InlineData("", null)]
    public void ParseNice_ReadsTheKernelsText(string text, int? expected) => Assert.Equal(expected, CpuYield.ParseNice(text));

    [Theory]
    [InlineData("127.0.0.1", true)]
    [InlineData("localhost", true)]
    [InlineData("::1", true)]
    [InlineData("[::1]", true)]
    [InlineData("/var/run/postgresql", true)]
    [InlineData("rcm-live-01.postgres.database.azure.com", false)]
    [InlineData("10.0.0.5", false)]
    [InlineData("", false)]
    public void SharesThisMachine_LoopbackAndSocketsOnly(string host, bool expected) => Assert.Equal(expected, CpuYield.SharesThisMachine(host));

    [Fact]
    public void Enter_LowersOnceForEveryHolder_TheLastOneSetsTheNiceFoundBefore()
    {
        File.WriteAllText(File_, "/autogroup-42 nice 3\n");
        var yield = new CpuYield(File_, Markers);
        var notes = new List<string>();

        var first = yield.Enter(19, notes.Add);
        Assert.Equal("19", File.ReadAllText(File_));
        var marker = Assert.Single(Directory.GetFiles(Markers));
        Assert.Equal("cpu-yield-autogroup-42", Path.GetFileName(marker));
        Assert.StartsWith("3 " + Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + " ", File.ReadAllText(marker), StringComparison.Ordinal);
        var second = yield.Enter(19, notes.Add);
        Assert.Equal("cpu yield: held already (nice 19)", notes[^1]);
        first.Dispose();
        first.Dispose();
        Assert.Equal("19", File.ReadAllText(File_));
        second.Dispose();

        Assert.Equal("3", File.ReadAllText(File_));
        Assert.Empty(Directory.GetFiles(Markers));
        Assert.Equal(["cpu yield: nice 19 (was 3) while a GIN build runs on this machine", "cpu yield: held already (nice 19)", "cpu yield: nice 3 again"], notes);
    }

    [Fact]
    public void Enter_SessionAlreadyAtThatNiceOrLower_LeavesItAsItIs()
    {
        File.WriteAllText(File_, "/autogroup-42 nice 19\n");
        var notes = new List<string>();

        new CpuYield(File_, Markers).Enter(10, notes.Add).Dispose();

        Assert.Equal("/autogroup-42 nice 19\n", File.ReadAllText(File_));
        Assert.False(Directory.Exists(Markers));
        Assert.Equal(["cpu yield: the session already runs at nice 19"], notes);
    }

    [Fact]
    public void Enter_SessionBelowNiceZero_LeavesItAsItIs()
    {
        // Setting a negative nice back needs privilege: lowered once, it might never come back.
        File.WriteAllText(File_, "/autogroup-42 nice -5\n");
        var notes = new List<string>();

        new CpuYield(File_, Markers).Enter(19, notes.Add).Dispose();

        Assert.Equal("/autogroup-42 nice -5\n", File.ReadAllText(File_));
        Assert.False(Directory.Exists(Markers));
        Assert.Equal(["cpu yield: the session runs at nice -5, which only a privileged process could set back; priority left as it is"], notes);
    }

    [Fact]
    public void Enter_NoAutogroupFile_CarriesOnAndSaysSo()
    {
        var notes = new List<string>();

        new CpuYield(Path.Combine(_root, "missing"), Markers).Enter(19, notes.Add).Dispose();

        var note = Assert.Single(notes);
        Assert.StartsWith("cpu yield: not available (FileNotFoundException", note, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("\n")]
    public void Enter_ProcessInTheRootGroup_SaysSoAndLeavesThePriority(string text)
    {
        // The kernel prints nothing for a process of no session autogroup: one whose session never called setsid, as
        // the processes a container's or a microVM's first process starts.
        File.WriteAllText(File_, text);
        var notes = new List<string>();
        var yield = new CpuYield(File_, Markers);

        yield.RecoverLeftover(notes.Add);
        yield.Enter(19, notes.Add).Dispose();

        Assert.Equal(text, File.ReadAllText(File_));
        Assert.False(Directory.Exists(Markers));
        Assert.Equal([CpuYield.RootGroupNote], notes);
    }

    [Fact]
    public void Enter_KernelBusyAtFirst_LowersOnALaterTry()
    {
        File.WriteAllText(File_, "/autogroup-42 nice 3\n");
        var kernel = new BusyKernel(refusals: 2);
        var notes = new List<string>();

        using (new CpuYield(File_, Markers, write: kernel.Write, busyDelay: TimeSpan.FromMilliseconds(1)).Enter(19, notes.Add))
        {
            Assert.Equal("19", File.ReadAllText(File_));
        }

        Assert.Equal(0, kernel.Refusals);
        Assert.Equal("3", File.ReadAllText(File_));
        Assert.Equal(["cpu yield: nice 19 (was 3) while a GIN build runs on this machine", "cpu yield: nice 3 again"], notes);
    }

    [Fact]
    public void Enter_KernelBusyThroughout_LeavesThePriorityAndNoMarker()
    {
        File.WriteAllText(File_, "/autogroup-42 nice 3\n");
        var notes = new List<string>();

        new CpuYield(File_, Markers, write: new BusyKernel(refusals: 100).Write, busyDelay: TimeSpan.FromMilliseconds(1)).Enter(19, notes.Add).Dispose();

        Assert.Equal("/autogroup-42 nice 3\n", File.ReadAllText(File_));
        Assert.Empty(Directory.GetFiles(Markers));
        Assert.StartsWith("cpu yield: not available (IOException: the kernel refused", Assert.Single(notes), StringComparison.Ordinal);
    }

    [Fact]
    public void Leave_KernelBusyForAWhile_TriesAgainUntilTheNiceIsBack()
    {
        // A GIN build shorter than the kernel's tenth of a second: the set-back comes too soon after the lowering.
        File.WriteAllText(File_, "/autogroup-42 nice 3\n");
        var kernel = new BusyKernel(refusals: 0);
        var notes = new List<string>();
        var held = new CpuYield(File_, Markers, write: kernel.Write, busyDelay: TimeSpan.FromMilliseconds(1)).Enter(19, notes.Add);
        kernel.Refusals = 5;

        held.Dispose();

        Assert.Equal(0, kernel.Refusals);
        Assert.Equal("3", File.ReadAllText(File_));
        Assert.Empty(Directory.GetFiles(Markers));
        Assert.Equal("cpu yield: nice 3 again", notes[^1]);
    }

    [Fact]
    public void Leave_KernelBusyPastEveryTry_StaysPendingAndTheNextYieldSetsItBack()
    {
        File.WriteAllText(File_, "/autogroup-42 nice 3\n");
        var kernel = new BusyKernel(refusals: 0);
        var yield = new CpuYield(File_, Markers, write: kernel.Write, busyDelay: TimeSpan.FromMilliseconds(1));
        var notes = new List<string>();
        var first = yield.Enter(19, notes.Add);
        kernel.Refusals = 25;

        first.Dispose();

        Assert.StartsWith("cpu yield: could not set nice 3 back yet (IOException: the kernel refused", notes[^1], StringComparison.Ordinal);
        Assert.Equal("19", File.ReadAllText(File_));
        var marker = Assert.Single(Directory.GetFiles(Markers));
        yield.RecoverLeftover(notes.Add); // its own process still runs: left to it
        Assert.Equal("19", File.ReadAllText(File_));
        kernel.Refusals = 0;

        using (yield.Enter(19, notes.Add))
        {
            Assert.Equal("cpu yield: held already (nice 19; setting nice 3 back is still pending)", notes[^1]);
        }

        Assert.Equal("3", File.ReadAllText(File_));
        Assert.False(File.Exists(marker));
        Assert.Equal("cpu yield: nice 3 again", notes[^1]);
    }

    [Fact]
    public void Enter_AutogroupSchedulingSwitchedOff_SaysSoAndLeavesThePriority()
    {
        File.WriteAllText(File_, "/autogroup-42 nice 0\n");
        var switch_ = Path.Combine(_root, "sched_autogroup_enabled");
        File.WriteAllText(switch_, "0\n");
        var notes = new List<string>();

        new CpuYield(File_, Markers, switch_).Enter(19, notes.Add).Dispose();

        Assert.Equal("/autogroup-42 nice 0\n", File.ReadAllText(File_));
        Assert.False(Directory.Exists(Markers));
        Assert.Equal([CpuYield.SwitchedOffNote], notes);
    }

    [Fact]
    public void Enter_NoteThrows_LeavesNoHolderBehind()
    {
        File.WriteAllText(File_, "/autogroup-42 nice 3\n");
        var yield = new CpuYield(File_, Markers);

        Assert.Throws<InvalidOperationException>(() => yield.Enter(19, _ => throw new InvalidOperationException("a failing trace")));

        Assert.Equal(0, yield.Peek().Holders);
        Assert.Equal("3", File.ReadAllText(File_));
        Assert.Empty(Directory.GetFiles(Markers));
    }

    [Fact]
    public void Enter_AutogroupUnreadable_CarriesOnLeavesNoMarker()
    {
        Directory.CreateDirectory(File_);
        var notes = new List<string>();

        new CpuYield(File_, Markers).Enter(19, notes.Add).Dispose();

        Assert.False(Directory.Exists(Markers));
        Assert.StartsWith("cpu yield: not available (UnauthorizedAccessException", Assert.Single(notes), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(20)]
    public void Enter_NiceOutOfRange_Throws(int nice) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new CpuYield(File_, Markers).Enter(nice, null));

    [Fact]
    public void RecoverLeftover_MarkerOfAProcessThatEnded_SetsItsNiceBack()
    {
        // A process that ended while yielding: its marker names a pid that no longer runs (a real one, waited for).
        var ended = EndedProcessId();
        File.WriteAllText(File_, "/autogroup-42 nice 19\n");
        PlantMarker($"2 {ended.ToString(CultureInfo.InvariantCulture)} 12345");
        var notes = new List<string>();

        new CpuYield(File_, Markers).RecoverLeftover(notes.Add);

        Assert.Equal("2", File.ReadAllText(File_));
        Assert.Empty(Directory.GetFiles(Markers));
        Assert.Equal([$"cpu yield: nice 2 set back, left lowered by process {ended}, which ended while yielding"], notes);
    }

    [Fact]
    public void RecoverLeftover_MarkerOfAPidNowAnotherProcess_SetsItsNiceBack()
    {
        // The pid runs (this very process) but started at another time than the marker says: the yielding process ended
        // and its pid was given to another.
        File.WriteAllText(File_, "/autogroup-42 nice 19\n");
        PlantMarker($"2 {Environment.ProcessId.ToString(CultureInfo.InvariantCulture)} 12345");
        var notes = new List<string>();

        new CpuYield(File_, Markers).RecoverLeftover(notes.Add);

        Assert.Equal("2", File.ReadAllText(File_));
        Assert.Empty(Directory.GetFiles(Markers));
        Assert.Single(notes);
    }

    [Theory]
    [InlineData("-5 1 1")]
    [InlineData("20 1 1")]
    [InlineData("2 1")]
    [InlineData("two 1 1")]
    public void RecoverLeftover_MarkerNotTheYields_IsRemovedNotUsed(string text)
    {
        File.WriteAllText(File_, "/autogroup-42 nice 19\n");
        PlantMarker(text);
        var notes = new List<string>();

        new CpuYield(File_, Markers).RecoverLeftover(notes.Add);

        Assert.Equal("/autogroup-42 nice 19\n", File.ReadAllText(File_));
        Assert.Empty(Directory.GetFiles(Markers));
        Assert.Equal(["cpu yield: a marker that is not the yield's (cpu-yield-autogroup-42) removed; priority left as it is"], notes);
    }

    [Fact]
    public void RecoverLeftover_MarkerFolderOthersMayWrite_IsNotRead()
    {
        // Anyone could have planted the marker: its nice is not taken.
        File.WriteAllText(File_, "/autogroup-42 nice 19\n");
        PlantMarker($"0 {EndedProcessId().ToString(CultureInfo.InvariantCulture)} 1");
        File.SetUnixFileMode(Markers, (UnixFileMode)0b111_111_111);
        var notes = new List<string>();

        new CpuYield(File_, Markers).RecoverLeftover(notes.Add);

        Assert.Equal("/autogroup-42 nice 19\n", File.ReadAllText(File_));
        Assert.Single(Directory.GetFiles(Markers));
        Assert.StartsWith("cpu yield: could not check for a leftover yield (UnsafeDirectoryException", Assert.Single(notes), StringComparison.Ordinal);
    }

    [Fact]
    public void RecoverLeftover_MarkerOfAProcessStillRunning_IsLeftToIt()
    {
        File.WriteAllText(File_, "/autogroup-42 nice 0\n");
        var holder = new CpuYield(File_, Markers);
        using var held = holder.Enter(19, null);
        var notes = new List<string>();

        // Another instance (as another process would) finds the marker of a live process: not its to set back.
        new CpuYield(File_, Markers).RecoverLeftover(notes.Add);

        Assert.Equal("19", File.ReadAllText(File_));
        Assert.Single(Directory.GetFiles(Markers));
        Assert.Empty(notes);
    }

    [Fact]
    public void Enter_OnARealAutogroup_LowersThePriorityAndSetsItBack()
    {
        if (!File.Exists(CpuYield.AutogroupPath))
        {
            // The process-wide instance: a move of another test may hold it meanwhile.
            var notes = new List<string>();
            CpuYield.Process.Enter(19, notes.Add).Dispose();
            Assert.Matches("^cpu yield: (not available|held already)", Assert.Single(notes));
            return;
        }

        // A child in a session of its own has an autogroup of its own, whichever group this test process runs in; the
        // kernel lets a process of the same user set another's autogroup nice through its /proc file.
        using var child = Process.Start(new ProcessStartInfo("setsid", ["sleep", "60"]))!;
        try
        {
            var path = $"/proc/{child.Id.ToString(CultureInfo.InvariantCulture)}/autogroup";
            var before = CpuYield.ParseNice(WaitForOwnAutogroup(path));
            Assert.Equal(0, before);
            var notes = new List<string>();
            var yield = new CpuYield(path, Markers);

            using (yield.Enter(19, notes.Add))
            {
                Assert.Equal(19, CpuYield.ParseNice(File.ReadAllText(path)));
                Assert.Single(Directory.GetFiles(Markers));
            }

            Assert.Equal(0, CpuYield.ParseNice(File.ReadAllText(path)));
            Assert.Empty(Directory.GetFiles(Markers));
            Assert.Equal(["cpu yield: nice 19 (was 0) while a GIN build runs on this machine", "cpu yield: nice 0 again"], notes);
        }
        finally
        {
            child.Kill();
            child.WaitForExit();
        }
    }

    [Fact]
    public void Enter_ThisProcess_LowersItsOwnAutogroupOrSaysWhyNot()
    {
        if (!File.Exists(CpuYield.AutogroupPath))
        {
            return; // covered by the test above
        }

        // The process-wide instance, shared with any move of this test process that builds a GIN index meanwhile.
        var notes = new List<string>();
        var before = CpuYield.Process.Peek();
        using (CpuYield.Process.Enter(19, notes.Add))
        {
            if (string.IsNullOrWhiteSpace(before.Text))
            {
                // A move of another test may take or leave the yield between the look and the entry.
                Assert.Contains(Assert.Single(notes), new[] { "cpu yield: held already (nice 19)", CpuYield.RootGroupNote });
                Assert.Equal(before.Text, File.ReadAllText(CpuYield.AutogroupPath));
            }
            else if (CpuYield.ParseNice(before.Text) >= 0)
            {
                Assert.Equal(19, CpuYield.ParseNice(File.ReadAllText(CpuYield.AutogroupPath)));
            }
        }

        var (holders, text) = CpuYield.Process.Peek();
        Assert.True(holders > 0 || CpuYield.ParseNice(text) == CpuYield.ParseNice(before.Text), $"{text} after the yield, {before.Text} before");
    }

    /// <summary>The pid of a real process that has ended (started and waited for).</summary>
    private static int EndedProcessId()
    {
        using var ended = Process.Start(new ProcessStartInfo("true"))!;
        ended.WaitForExit();
        return ended.Id;
    }

    /// <summary>Writes <paramref name="text"/> as the marker of autogroup 42, as a yielding process would leave it.</summary>
    private void PlantMarker(string text)
    {
        Directory.CreateDirectory(Markers);
        File.WriteAllText(Path.Combine(Markers, "cpu-yield-autogroup-42"), text);
    }

    /// <summary>
    /// Writes as the kernel does for a process without CAP_SYS_ADMIN within a tenth of a second of the last autogroup
    /// nice on the machine: refuses with EAGAIN (which .NET carries as the IOException's HResult) while refusals are left.
    /// </summary>
    private sealed class BusyKernel(int refusals)
    {
        public int Refusals { get; set; } = refusals;

        public void Write(string path, string text)
        {
            if (Refusals > 0)
            {
                Refusals--;
                throw new IOException($"The process cannot access the file '{path}' because it is being used by another process.", 11);
            }

            File.WriteAllText(path, text);
        }
    }

    /// <summary>The autogroup text of a process just started through setsid, once it runs in its new session.</summary>
    private static string WaitForOwnAutogroup(string path)
    {
        var own = File.ReadAllText(CpuYield.AutogroupPath);
        for (var i = 0; i < 200; i++)
        {
            var text = File.ReadAllText(path);
            if (text.Length > 0 && text != own)
            {
                return text;
            }

            Thread.Sleep(10);
        }

        throw new TimeoutException($"{path} still reads the parent's group");
    }
}
