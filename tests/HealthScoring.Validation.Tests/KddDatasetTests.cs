using HealthScoring.Scoring.Metrics;
using HealthScoring.Validation.Kdd;

namespace HealthScoring.Validation.Tests;

public sealed class KddDatasetTests
{
    private string _folder = null!;

    [SetUp]
    public void CreateFolder() => _folder = Directory.CreateTempSubdirectory("kdd-sample-").FullName;

    [TearDown]
    public void DeleteFolder() => Directory.Delete(_folder, recursive: true);

    [Test]
    public void Load_SmallSample_BuildsFactsAndDailyUsage()
    {
        Write(KddDataset.EnrollmentsFile, """
            enrollment_id,course_key,window_start,window_end,dropout,total_events,active_days,first_active_date,last_active_date
            11,973,2013-11-28,2013-12-27,1,7,2,2013-11-28,2013-12-01
            12,973,2013-11-28,2013-12-27,0,3,1,2013-12-27,2013-12-27
            """);
        Write(KddDataset.ActivityFile, """
            course_key,enrollment_id,date,event_type,count
            973,11,2013-11-28,video,5
            973,11,2013-12-01,problem,2
            973,12,2013-12-27,access,3
            """);

        var data = KddDataset.Load(_folder);

        Assert.That(data.Enrollments, Has.Count.EqualTo(2));
        var first = data.Enrollments[0];
        Assert.Multiple(() =>
        {
            Assert.That(first, Is.EqualTo(new KddEnrollment("11", "973", new DateOnly(2013, 11, 28), new DateOnly(2013, 12, 27), true, 7, 2, new DateOnly(2013, 12, 1))));
            Assert.That(first.WindowDays, Is.EqualTo(30));
            Assert.That(first.ToFacts().AccountId, Is.EqualTo("11"));
            Assert.That(first.ToFacts().StartDate, Is.EqualTo(new DateOnly(2013, 11, 28)));
            Assert.That(first.ToFacts().SeatsPurchased, Is.Null);
            Assert.That(first.ToFacts().Goals, Is.Empty);
            Assert.That(data.Enrollments[1].Dropout, Is.False);
            Assert.That(data.ActivityRows, Is.EqualTo(3));
            Assert.That(data.RowsOutsideWindow, Is.Zero);
        });

        var usage = data.UsageOf(first);
        Assert.That(usage.Days.Select(d => d.Day), Is.EqualTo(new[] { new DateOnly(2013, 11, 28), new DateOnly(2013, 12, 1) }));
        Assert.Multiple(() =>
        {
            // count is both the event count and the quantity; there are no users.
            Assert.That(usage.Days[0].Names["video"], Is.EqualTo(new NameUsage(5, 5)));
            Assert.That(usage.Days[1].Names["problem"], Is.EqualTo(new NameUsage(2, 2)));
            Assert.That(usage.Days.SelectMany(d => d.Users), Is.Empty);
            Assert.That(KddSignals.Of(first, usage), Is.EqualTo(new KddSignals(26, 2, 7, NeverActive: false)));
            Assert.That(KddSignals.Of(first, usage).MatchesFile(first), Is.True);
        });
    }

    [Test]
    public void Load_SameDayAndTypeTwice_AddsTheCounts()
    {
        WriteOneEnrollment();
        Write(KddDataset.ActivityFile, """
            course_key,enrollment_id,date,event_type,count
            973,11,2013-12-01,video,5
            973,11,2013-12-01,video,2
            973,11,2013-12-01,wiki,1
            """);

        var data = KddDataset.Load(_folder);
        var day = data.UsageOf(data.Enrollments.Single()).Days.Single();

        Assert.Multiple(() =>
        {
            Assert.That(day.Names["video"].Count, Is.EqualTo(7));
            Assert.That(day.Events, Is.EqualTo(8));
        });
    }

    [Test]
    public void Load_ActivityBeforeTheWindow_IsCountedAsOutside()
    {
        WriteOneEnrollment();
        Write(KddDataset.ActivityFile, """
            course_key,enrollment_id,date,event_type,count
            973,11,2013-11-27,video,5
            973,11,2013-11-28,video,1
            973,11,2013-12-28,video,1
            """);

        Assert.That(KddDataset.Load(_folder).RowsOutsideWindow, Is.EqualTo(2));
    }

    [Test]
    public void Load_ActivityOfAnUnknownEnrollment_Throws()
    {
        WriteOneEnrollment();
        Write(KddDataset.ActivityFile, """
            course_key,enrollment_id,date,event_type,count
            973,99,2013-12-01,video,5
            """);

        Assert.That(() => KddDataset.Load(_folder), Throws.TypeOf<InvalidDataException>().With.Message.Contains("99"));
    }

    [Test]
    public void ReadEnrollments_ColumnsInAnyOrder_AreFoundByName()
    {
        Write(KddDataset.EnrollmentsFile, """
            dropout,window_end,window_start,course_key,enrollment_id,total_events,active_days,last_active_date
            0,2013-12-27,2013-11-28,973,11,0,0,
            """);

        var enrollment = KddDataset.ReadEnrollments(Path.Combine(_folder, KddDataset.EnrollmentsFile)).Single();

        Assert.That(enrollment, Is.EqualTo(new KddEnrollment("11", "973", new DateOnly(2013, 11, 28), new DateOnly(2013, 12, 27), false, 0, 0, null)));
    }

    [TestCase("11,973,2013-11-28,2013-12-27,1,7,2,2013-11-28", "8 fields")]
    [TestCase("11,973,2013-11-28,2013-12-27,yes,7,2,2013-11-28,2013-12-01", "dropout")]
    [TestCase("11,\"973\",2013-11-28,2013-12-27,1,7,2,2013-11-28,2013-12-01", "quoted")]
    [TestCase("11,973,28/11/2013,2013-12-27,1,7,2,2013-11-28,2013-12-01", ":2:")]
    public void ReadEnrollments_BadLine_ThrowsWithTheLineNumber(string line, string expected)
    {
        Write(KddDataset.EnrollmentsFile, "enrollment_id,course_key,window_start,window_end,dropout,total_events,active_days,first_active_date,last_active_date\n" + line + "\n");

        Assert.That(() => KddDataset.ReadEnrollments(Path.Combine(_folder, KddDataset.EnrollmentsFile)),
            Throws.TypeOf<InvalidDataException>().With.Message.Contains(":2:").And.Message.Contains(expected));
    }

    private void WriteOneEnrollment() => Write(KddDataset.EnrollmentsFile, """
        enrollment_id,course_key,window_start,window_end,dropout,total_events,active_days,first_active_date,last_active_date
        11,973,2013-11-28,2013-12-27,1,0,0,,
        """);

    private void Write(string name, string text) => File.WriteAllText(Path.Combine(_folder, name), text);
}
