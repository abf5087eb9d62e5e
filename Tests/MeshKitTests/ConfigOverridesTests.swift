import MeshKit
import XCTest

final class ConfigOverridesTests: XCTestCase {
    struct Inner: Codable, Equatable {
        var batch = 8; var momentum: Float = 0.9; var kind = "l1"; var on = false
        /// Unset optionals are absent from the JSON.
        var cropMin: Float? = nil
    }
    struct Config: Codable, Equatable { var name = "p"; var train = Inner(); var list = [1, 2] }

    func testOverridesSetNestedFieldsKeepingTheirTypes() throws {
        let c = try ConfigOverrides.apply(["train.batch=32", "train.momentum=0.99", "train.kind=l2", "train.on=true", "name=q"],
                                          to: Config())
        XCTAssertEqual(c.train, Inner(batch: 32, momentum: 0.99, kind: "l2", on: true))
        XCTAssertEqual(c.name, "q")
        XCTAssertEqual(c.list, [1, 2])
        XCTAssertEqual(try ConfigOverrides.apply([], to: Config()), Config())
    }

    func testAnUnsetOptionalFieldCanBeSetButATypoStillFails() throws {
        let c = try ConfigOverrides.apply(["train.cropMin=0.2"], to: Config())
        XCTAssertEqual(c.train.cropMin, 0.2)
        XCTAssertEqual(try ConfigOverrides.apply(["train.cropMin=1"], to: Config()).train.cropMin, 1)
        XCTAssertNil(Config().train.cropMin)
        for bad in ["train.cropMn=0.2", "train.other.x=1"] {
            do { _ = try ConfigOverrides.apply([bad], to: Config()); XCTFail("\(bad) accepted") } catch {
                XCTAssertTrue("\(error)".contains("no field"), "\(error)")
            }
        }
        do { _ = try ConfigOverrides.apply(["train.cropMin=wide"], to: Config()); XCTFail("a string accepted for a Float") } catch {
            XCTAssertTrue("\(error)".contains("invalid configuration"), "\(error)")
        }
    }

    func testBadOverridesNameTheOverrideAndTheProblem() {
        func message(_ o: String) -> String {
            do { _ = try ConfigOverrides.apply([o], to: Config()); return "no error" } catch { return "\(error)" }
        }
        XCTAssertTrue(message("train.bach=3").contains("no field 'bach'"), message("train.bach=3"))
        XCTAssertTrue(message("train.bach=3").contains("config_overrides"))
        XCTAssertTrue(message("train.batch=3.5").contains("whole number"))
        XCTAssertTrue(message("train.momentum=fast").contains("takes a number"))
        XCTAssertTrue(message("train.on=yes").contains("true or false"))
        XCTAssertTrue(message("train=3").contains("group or list"))
        XCTAssertTrue(message("list=3").contains("group or list"))
        XCTAssertTrue(message("name.x=3").contains("is a value"))
        XCTAssertTrue(message("nokey").contains("expected path=value"))
    }
}
